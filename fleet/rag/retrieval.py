"""The retrieve step of a RAG query: the chunks of a knowledge base nearest a question.

Three searches; the last two as LangChain's vector stores name them:
- `hybrid` (the default): the fetch_k nearest chunks by embedding and the fetch_k best by
  BM25 (fleet.rag.lexical), fused by reciprocal rank (as LangChain's EnsembleRetriever
  does): a question's rare words (a setting's name, a header, an error code) find their
  passage even where the embedding does not;
- `similarity`: the k nearest chunks by cosine similarity;
- `mmr` (maximal marginal relevance): fetch_k nearest, then k of them chosen to be relevant
  and unlike each other, so five near-copies of one paragraph do not fill the context.

A score is the cosine similarity (1 - Chroma's cosine distance): 1 is the same direction,
0 unrelated, whichever search found the chunk. The query side compares the best score with
`rag.relevance_threshold` to answer "not in the knowledge base" without calling a model.

Metadata filters are Chroma `where` clauses, checked here first so a mistake is reported
with the field and the fix, not as a Chroma internal error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from fleet.errors import FieldProblem, InvalidInput

FILTER_KEYS = ("source", "kind", "page", "chunk", "root")
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")
LOGICAL = ("$and", "$or")


class Search(BaseModel):
    search: Literal["hybrid", "similarity", "mmr"] = "hybrid"
    k: int = Field(4, ge=1, le=50, description="Chunks given to the model.")
    fetch_k: int = Field(20, ge=1, le=500,
                         description="Candidates hybrid (from each search) and MMR choose "
                                     "from.")
    lambda_mult: float = Field(0.5, ge=0, le=1,
                               description="MMR: 1 is relevance only, 0 diversity only.")
    filter: dict[str, Any] | None = Field(
        None, description="Chroma where clause on source, kind, page, chunk or root, e.g. "
                          "{\"kind\": \"pdf\"} or {\"page\": {\"$lte\": 3}}.")

    @model_validator(mode="after")
    def _check(self) -> Search:
        if self.search != "similarity" and self.fetch_k < self.k:
            raise ValueError(f"fetch_k ({self.fetch_k}) must be at least k ({self.k})")
        if self.filter is not None:
            check_filter(self.filter)
        return self


def check_filter(clause: Any, where: str = "filter") -> None:
    """Raise ValueError naming the part of a where clause that Chroma would refuse."""
    if not isinstance(clause, dict) or len(clause) != 1:
        raise ValueError(f"{where} must be an object with one key: a metadata field "
                         f"({', '.join(FILTER_KEYS)}) or $and/$or")
    (key, value), = clause.items()
    if key in LOGICAL:
        if not isinstance(value, list) or len(value) < 2:
            raise ValueError(f"{where}.{key} takes a list of at least two clauses")
        for i, sub in enumerate(value):
            check_filter(sub, f"{where}.{key}[{i}]")
        return
    if key not in FILTER_KEYS:
        raise ValueError(f"{where}: '{key}' is not a chunk field; use one of "
                         f"{', '.join(FILTER_KEYS)}")
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in OPERATORS:
            raise ValueError(f"{where}.{key} takes one operator of {', '.join(OPERATORS)}")
        (op, operand), = value.items()
        if op in ("$in", "$nin") and not (isinstance(operand, list) and operand):
            raise ValueError(f"{where}.{key}.{op} takes a non-empty list")
    elif not isinstance(value, (str, int, float, bool)):
        raise ValueError(f"{where}.{key} must be a string, number or boolean")


@dataclass(frozen=True)
class Source:
    id: str
    source: str
    score: float
    text: str
    chunk: int
    page: int | None = None

    def public(self, snippet_chars: int = 300) -> dict:
        text = self.text if len(self.text) <= snippet_chars else \
            self.text[:snippet_chars].rstrip() + "…"
        out = {"source": self.source, "score": round(self.score, 4), "chunk": self.chunk,
               "snippet": text}
        if self.page is not None:
            out["page"] = self.page
        return out


def retrieve(coll, embed, question: str, search: Search) -> tuple[list[Source], dict]:
    """(sources, timings in ms: embed, retrieve), best first."""
    import numpy as np

    if not question.strip():
        raise InvalidInput("The question is empty.",
                           [FieldProblem("question", "empty", "Ask something.")])
    t0 = time.perf_counter()
    query = np.asarray(embed([question])[0], dtype=np.float32)
    t1 = time.perf_counter()
    mmr = search.search == "mmr"
    include = ["documents", "metadatas", "distances"] + (["embeddings"] if mmr else [])
    hits = coll.query(query_embeddings=[query],
                      n_results=search.k if search.search == "similarity" else search.fetch_k,
                      where=search.filter, include=include)
    ids, docs = hits["ids"][0], hits["documents"][0]
    metas, dists = hits["metadatas"][0], hits["distances"][0]
    order = list(range(len(ids)))
    if mmr and ids:
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        order = maximal_marginal_relevance(query, list(hits["embeddings"][0]),
                                           lambda_mult=search.lambda_mult, k=search.k)
    sources = [Source(id=ids[i], source=metas[i]["source"], score=1.0 - float(dists[i]),
                      text=docs[i], chunk=int(metas[i].get("chunk", 0)),
                      page=metas[i].get("page")) for i in order]
    if search.search == "hybrid":
        sources = _fused(coll, query, question, search, sources)
    t2 = time.perf_counter()
    return sources, {"embed_ms": round((t1 - t0) * 1000, 2),
                     "retrieve_ms": round((t2 - t1) * 1000, 2)}


RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al.; LangChain's default too)


def _fused(coll, query, question: str, search: Search, nearest: list[Source]) -> list[Source]:
    """The `k` best of three rankings fused by reciprocal rank: the embedding's `nearest`,
    BM25 over chunks, and BM25 over sentences (a chunk as good as its best one). A chunk
    only BM25 found gets its cosine score from its stored embedding; one the filter
    excludes is dropped."""
    import numpy as np

    from fleet.rag.extractive import sentences
    from fleet.rag.lexical import index_of

    index = index_of(coll, sentences)
    wordy = [cid for cid, _ in index.top(question, search.fetch_k)]
    lines = [cid for cid, _ in index.top_by_sentence(question, search.fetch_k)]
    known = {s.id: s for s in nearest}
    missing = list(dict.fromkeys(cid for cid in wordy + lines if cid not in known))
    if missing:
        got = coll.get(ids=missing, where=search.filter,
                       include=["documents", "metadatas", "embeddings"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(
            len(got["ids"]), len(query))
        cosine = vectors @ query / np.maximum(
            np.linalg.norm(vectors, axis=1) * np.linalg.norm(query), 1e-12)
        for cid, doc, meta, score in zip(got["ids"], got["documents"], got["metadatas"],
                                         cosine, strict=True):
            known[cid] = Source(id=cid, source=meta["source"], score=float(score), text=doc,
                                chunk=int(meta.get("chunk", 0)), page=meta.get("page"))
    fused: dict[str, float] = {}
    for ranking in ([s.id for s in nearest], [cid for cid in wordy if cid in known],
                    [cid for cid in lines if cid in known]):
        for rank, cid in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(fused, key=lambda cid: -fused[cid])[:search.k]
    return [known[cid] for cid in best]


__all__ = ["Search", "Source", "check_filter", "retrieve"]
