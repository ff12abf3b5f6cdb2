"""bench/rag_quality: are the RAG answers right? Fleet's own docs in a knowledge base, the
questions of bench/rag_questions.yaml asked one after the other, each answer scored as a
user reads it.

    python -m bench.rag_quality [--questions bench/rag_questions.yaml] [--docs DIR ...]
    python -m bench.rag_quality --questions bench/rag_questions_external.yaml \
        --label rag_quality_external   # documents nobody here wrote

- correct: every expected fact appears in the answer (case-insensitive; `any` lists
  alternatives), and the answer says it knows (not "not in the knowledge base")
- right source: the first passage (the one the answer leans on most) comes from an
  expected file: one that states the facts
- repeated lines: an answer that says the same non-empty line twice (a decoding loop)
- time to the whole answer: p50 and p95, with the retrieval's share

It runs in this process, as rag_query does (fleet.rag.query.Answerer: the configured
embedding model and LLM backend), against embedded Chroma in a scratch FLEET_HOME: no Ray.
Results go to bench/results/rag_quality.json, one row per question."""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

import yaml

from bench.common import ROOT, write_result

WORK = ROOT / ".tmp" / "bench-rag-quality"


def has(answer: str, fact) -> bool:
    options = fact["any"] if isinstance(fact, dict) else [fact]
    return any(str(o).lower() in answer.lower() for o in options)


def repeated_lines(answer: str) -> bool:
    lines = [ln.strip() for ln in answer.splitlines() if ln.strip()]
    return len(lines) != len(set(lines))


def score(q: dict, answer) -> dict:
    top = answer.sources[0]["source"] if answer.sources else ""
    expected = q["source"] if isinstance(q["source"], list) else [q["source"]]
    correct = answer.in_knowledge_base and all(has(answer.answer, f) for f in q["facts"])
    return {"question": q["question"], "correct": correct,
            "right_source": bool(top) and top.endswith(tuple(expected)),
            "top_source": Path(top).name,
            "repeated_lines": repeated_lines(answer.answer),
            "total_ms": answer.latency_ms.get("total_ms"),
            "retrieve_ms": answer.latency_ms.get("retrieve_ms"),
            "answer": answer.answer[:400]}


def packaged(doc: dict) -> Path:
    """A file or folder inside an installed package: {package, path}."""
    import importlib.util

    spec = importlib.util.find_spec(doc["package"])
    return Path(spec.origin).parent / doc["path"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", default=str(ROOT / "bench" / "rag_questions.yaml"))
    ap.add_argument("--docs", nargs="*", default=None,
                    help="files or folders to ingest (default: README.md and docs/*.md)")
    ap.add_argument("--label", default="rag_quality", help="results file name")
    ap.add_argument("--answer", default=None, choices=["extractive", "generate"],
                    help="default: the installation's rag.answer")
    ap.add_argument("--k", type=int, default=None, help="passages retrieved (default 4)")
    args = ap.parse_args()
    from fleet.config import clear_cache, load_settings
    from fleet.rag import ingest
    from fleet.rag.query import Answerer, QueryRequest

    shutil.rmtree(WORK, ignore_errors=True)
    docs = WORK / "docs"
    docs.mkdir(parents=True)
    loaded = yaml.safe_load(Path(args.questions).read_text())
    questions = loaded["questions"] if isinstance(loaded, dict) else loaded
    named = [packaged(d) for d in loaded.get("docs", [])] if isinstance(loaded, dict) else []
    for p in ([Path(d) for d in args.docs] if args.docs else named or
              [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]):
        for f in (sorted(p.rglob("*")) if p.is_dir() else [p]):
            if f.is_file():
                shutil.copy(f, docs / f.name)
    (WORK / "home").mkdir()
    (WORK / "home" / "fleet.yaml").write_text(
        f"llm: {{cache_dir: '{ROOT / '.tmp' / 'models'}'}}\n")
    clear_cache()
    settings = load_settings(WORK / "home")
    report = ingest(settings, "docs", docs.as_uri(), chunk_size=settings.rag.chunk_size,
                    chunk_overlap=settings.rag.chunk_overlap)
    print(f"ingested {report.files} files, {report.chunks_written} chunks", flush=True)
    answerer = Answerer(settings)
    answerer.answer(QueryRequest(knowledge_base="docs", question="warm up"))
    rows = []
    for q in questions:
        started = time.perf_counter()
        a = answerer.answer(QueryRequest(
            knowledge_base="docs", question=q["question"], answer=args.answer,
            **({"search": {"k": args.k}} if args.k else {})))
        row = score(q, a)
        row["wall_ms"] = round((time.perf_counter() - started) * 1000, 1)
        rows.append(row)
        mark = "ok " if row["correct"] else "NO "
        print(f"{mark}{row['wall_ms']:>8.0f} ms  {row['top_source']:<16} {q['question'][:60]}",
              flush=True)
    walls = [r["wall_ms"] for r in rows]
    summary = {
        "questions": len(rows),
        "correct": sum(r["correct"] for r in rows),
        "correct_with_right_top_source": sum(r["correct"] and r["right_source"] for r in rows),
        "right_top_source": sum(r["right_source"] for r in rows),
        "repeated_lines": sum(r["repeated_lines"] for r in rows),
        "p50_ms": round(statistics.median(walls), 1), "p95_ms": round(pct(walls, 95), 1),
        "answered_by": rows and a.model, "k": args.k or 4,
    }
    print(summary)
    write_result(args.label, {"summary": summary, "rows": rows})


if __name__ == "__main__":
    main()
