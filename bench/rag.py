"""bench/rag: the RAG path's figures on this machine, each beside a baseline from the same run.

    python -m bench.rag [--chunks 10000] [--queries 200] [--parts index,model,app]

1. Ingest throughput: `fleet.rag.ingest` of a generated corpus into embedded Chroma, in
   chunks/s, against the embedding model alone encoding the same chunks (the floor: what
   is left is reading, splitting and Chroma's writes).
2. Retrieval at --chunks chunks: p50/p99 of the retrieve step (embed the question, search)
   at 1 caller and at 16 threads; the search alone against an exact numpy search over the
   same vectors. Goal: p50 <= 20 ms at 1 caller.
3. The local model (SmolLM2-135M-Instruct on CPU): time to first token and decode tokens/s,
   for a short prompt and for a RAG-sized one.
4. End to end: questions answered by the RAG app over HTTP (`/rag/ask` of a Fleet started
   here, calling the LLM app), at 1 and 16 concurrent callers. Goal: <= 5 s at 1 caller.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import ROOT, quiet, write_result

WORK = ROOT / ".tmp" / "bench-rag"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p99_ms": round(pct(ms, 99), 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def corpus(folder: Path, chunks: int, seed: int = 11) -> list[str]:
    """Markdown files of sentences drawn from this project's docs' vocabulary, about 400
    characters a paragraph, one paragraph a chunk (chunk_size 400, no overlap)."""
    import re

    words = re.findall(r"[A-Za-z][A-Za-z-]{2,}", " ".join(
        p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]))
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs: list[str] = []
    per_file = 20
    for f in range(chunks // per_file):
        body = []
        for _ in range(per_file):
            text = ""
            while len(text) < 330:
                text += " ".join(rng.choice(words) for _ in range(rng.randint(6, 14))) + ". "
            body.append(text.strip())
        paragraphs.extend(body)
        (folder / f"doc-{f:05d}.md").write_text(f"# Document {f}\n\n" + "\n\n".join(body))
    return paragraphs


def bench_ingest(settings, folder: Path, paragraphs: list[str]) -> tuple[dict, object]:
    from fleet.rag import existing, ingest
    from fleet.rag.embeddings import embedding_function

    embed = embedding_function(settings.rag.embedding)
    embed(["warm up"])
    quiet()
    started = time.perf_counter()
    report = ingest(settings, "bench", folder.as_uri(), chunk_size=400, chunk_overlap=0)
    ingest_s = time.perf_counter() - started
    quiet()
    sample = paragraphs[:2000]
    started = time.perf_counter()
    embed(sample)
    embed_s = time.perf_counter() - started
    ingest_rate = report.chunks_written / ingest_s
    embed_rate = len(sample) / embed_s
    return {"chunks": report.chunks_written, "files": report.files,
            "seconds": round(ingest_s, 1), "chunks_per_s": round(ingest_rate, 1),
            "embed_only_chunks_per_s": round(embed_rate, 1),
            "ratio_to_embed_only": round(ingest_rate / embed_rate, 2)}, existing(settings,
                                                                              "bench")


def bench_retrieval(settings, coll, paragraphs: list[str], queries: int) -> dict:
    import numpy as np

    from fleet.rag.embeddings import embedding_function
    from fleet.rag.retrieval import Search, retrieve

    rng = random.Random(5)
    embed = embedding_function(settings.rag.embedding)
    questions = []
    for _ in range(queries):
        words = rng.choice(paragraphs).split()
        start = rng.randrange(max(1, len(words) - 8))
        questions.append("What about " + " ".join(words[start:start + 8]) + "?")
    search = Search(k=4)
    retrieve(coll, embed, questions[0], search)  # warm
    quiet()

    def one(q: str) -> float:
        t = time.perf_counter()
        retrieve(coll, embed, q, search)
        return (time.perf_counter() - t) * 1000

    c1 = [one(q) for q in questions]
    quiet()
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        c16 = list(pool.map(one, questions))
    c16_rate = len(questions) / (time.perf_counter() - started)

    vectors = np.asarray(embed(questions), dtype=np.float32)
    stored = coll.get(include=["embeddings"])
    matrix = np.asarray(stored["embeddings"], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    chroma_ms, numpy_ms, same = [], [], 0
    for v in vectors:
        t = time.perf_counter()
        hit = coll.query(query_embeddings=[v], n_results=4, include=[])["ids"][0]
        chroma_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        scores = matrix @ v
        top = np.argpartition(-scores, 4)[:4]
        exact = [stored["ids"][i] for i in top[np.argsort(-scores[top])]]
        numpy_ms.append((time.perf_counter() - t) * 1000)
        same += hit[0] == exact[0]
    return {"chunks": len(stored["ids"]), "retrieve_c1": summary(c1),
            "retrieve_c16": {**summary(c16), "queries_per_s": round(c16_rate, 1)},
            "retrieve_c1_queries_per_s": round(1000 / statistics.fmean(c1), 1),
            "search_only_chroma": summary(chroma_ms), "search_only_numpy_exact":
                summary(numpy_ms),
            "chroma_over_numpy_p50": round(pct(chroma_ms, 50) / pct(numpy_ms, 50), 2),
            "top1_same_as_exact": f"{same}/{len(vectors)}",
            "goal_p50_le_20ms": pct(c1, 50) <= 20}


def bench_local_model(settings) -> dict:
    from fleet.llm import LocalChat, Usage

    started = time.perf_counter()
    chat = LocalChat(settings.llm.model, settings.model_cache)
    load_s = time.perf_counter() - started
    context = " ".join(["Fleet runs functions on Ray and records every invocation."] * 60)
    out = {"load_s": round(load_s, 2)}
    for label, content in (("short_prompt", "Name three uses of a lighthouse."),
                           ("rag_prompt", f"Context:\n{context}\n\nQuestion: What does "
                                          f"Fleet record?")):
        ttft, speed, prompt_tokens = [], [], 0
        for _ in range(4):
            usage = Usage()
            t = time.perf_counter()
            first = last = None
            for _piece in chat.stream(messages=[{"role": "user", "content": content}],
                                      max_tokens=64, usage=usage):
                first = first or time.perf_counter()
                last = time.perf_counter()
            ttft.append((first - t) * 1000)
            if usage.completion_tokens > 1:
                speed.append((usage.completion_tokens - 1) / (last - first))
            prompt_tokens = usage.prompt_tokens
        out[label] = {"prompt_tokens": prompt_tokens,
                      "ttft_p50_ms": round(statistics.median(ttft), 1),
                      "decode_tokens_per_s": round(statistics.median(speed), 1)}
    return out


QUESTIONS = [
    "Where does Fleet keep its SQLite database?", "Which metrics does the router export?",
    "Are exceptions raised by a function retried?", "How do I submit a function as a Ray job?",
    "Why does the gateway run as a plain process?", "What does the warm option do?",
    "Which interfaces do Ray's GCS and raylet bind to?", "How is a model factory registered?",
]


def bench_app(docs_kb_folder: Path) -> dict:
    """Questions to /rag/ask of a Fleet started here (its LLM app and RAG app)."""
    import httpx

    from bench.common import start_fleet, stop_fleet

    home = start_fleet(tag="-rag", data_roots=(docs_kb_folder,), apps=True)
    try:
        from fleet.config import load_settings
        from fleet.runtime import Client
        from fleet.serving.apps import wait_serving

        settings = load_settings(home)
        client = Client(settings)
        inv = client.invoke("rag_ingest", {"knowledge_base": "project-docs",
                                           "source": str(docs_kb_folder)}, wait=True)
        assert inv.status.value == "succeeded", inv.error
        url = f"http://127.0.0.1:{settings.serving.serve_port}/rag/ask"
        assert wait_serving(url), "the RAG app did not start (see the bench's server.log)"

        def ask(q: str) -> tuple[float, dict]:
            t = time.perf_counter()
            r = httpx.post(url, timeout=600, json={"knowledge_base": "project-docs",
                                                   "question": q, "stream": False})
            r.raise_for_status()
            return time.perf_counter() - t, r.json()

        ask(QUESTIONS[0])  # warm: the LLM app's first answer
        quiet()
        c1 = [ask(q) for q in QUESTIONS]
        quiet()
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            c16 = list(pool.map(ask, QUESTIONS * 2))
        c16_wall = time.perf_counter() - started
        tokens = [r["usage"].get("completion_tokens", 0) for _, r in c1]
        return {
            "c1": {"p50_s": round(pct([s for s, _ in c1], 50), 2),
                   "max_s": round(max(s for s, _ in c1), 2),
                   "completion_tokens_p50": statistics.median(tokens),
                   "generate_ms_p50": statistics.median(
                       r["latency_ms"]["generate_ms"] for _, r in c1),
                   "retrieve_ms_p50": statistics.median(
                       r["latency_ms"]["embed_ms"] + r["latency_ms"]["retrieve_ms"]
                       for _, r in c1)},
            "c16": {"p50_s": round(pct([s for s, _ in c16], 50), 2),
                    "max_s": round(max(s for s, _ in c16), 2),
                    "answers_per_s": round(len(c16) / c16_wall, 2)},
            "goal_c1_p50_le_5s": pct([s for s, _ in c1], 50) <= 5}
    finally:
        stop_fleet()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--parts", default="index,model,app",
                    help="index (ingest + retrieval), model (the local LLM), app (end to end)")
    args = ap.parse_args()
    import shutil

    from fleet.config import clear_cache, load_settings

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "home").mkdir(parents=True)
    (WORK / "home" / "fleet.yaml").write_text(
        f"llm: {{cache_dir: '{ROOT / '.tmp' / 'models'}'}}\n")
    clear_cache()
    settings = load_settings(WORK / "home")
    parts = set(args.parts.split(","))
    results: dict = {}
    if "index" in parts:
        paragraphs = corpus(WORK / "corpus", args.chunks)
        print(f"ingest {args.chunks} chunks ...", flush=True)
        results["ingest"], coll = bench_ingest(settings, WORK / "corpus", paragraphs)
        print(results["ingest"], flush=True)
        results["retrieval"] = bench_retrieval(settings, coll, paragraphs, args.queries)
        print(results["retrieval"], flush=True)
    if "model" in parts:
        results["local_model"] = bench_local_model(settings)
        print(results["local_model"], flush=True)
    if "app" in parts:
        docs = WORK / "project-docs"
        docs.mkdir()
        for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
            shutil.copy(p, docs / p.name)
        results["end_to_end_app"] = bench_app(docs)
        print(results["end_to_end_app"], flush=True)
    write_result("rag" if parts == {"index", "model", "app"} else
                 "rag-" + "-".join(sorted(parts)), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
