"""The retrieve step of a RAG query: the chunks of a knowledge base nearest a question.

Two searches, as LangChain's vector stores name them:
- `similarity`: the k nearest chunks by cosine similarity;
- `mmr` (maximal marginal relevance): fetch_k nearest, then k of them chosen to be relevant
  and unlike each other, so five near-copies of one paragraph do not fill the context.

A score is the cosine similarity (1 - Chroma's cosine distance): 1 is the same direction,
0 unrelated. The query side compares the best score with `rag.relevance_threshold` to
answer "not in the knowledge base" without calling a model.

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
    search: Literal["similarity", "mmr"] = "similarity"
    k: int = Field(4, ge=1, le=50, description="Chunks given to the model.")
    fetch_k: int = Field(20, ge=1, le=500, description="Candidates MMR chooses from.")
    lambda_mult: float = Field(0.5, ge=0, le=1,
                               description="MMR: 1 is relevance only, 0 diversity only.")
    filter: dict[str, Any] | None = Field(
        None, description="Chroma where clause on source, kind, page, chunk or root, e.g. "
                          "{\"kind\": \"pdf\"} or {\"page\": {\"$lte\": 3}}.")

    @model_validator(mode="after")
    def _check(self) -> Search:
        if self.search == "mmr" and self.fetch_k < self.k:
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
    hits = coll.query(query_embeddings=[query], n_results=search.fetch_k if mmr else search.k,
                      where=search.filter, include=include)
    ids, docs = hits["ids"][0], hits["documents"][0]
    metas, dists = hits["metadatas"][0], hits["distances"][0]
    order = list(range(len(ids)))
    if mmr and ids:
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        order = maximal_marginal_relevance(query, list(hits["embeddings"][0]),
                                           lambda_mult=search.lambda_mult, k=search.k)
    t2 = time.perf_counter()
    sources = [Source(id=ids[i], source=metas[i]["source"], score=1.0 - float(dists[i]),
                      text=docs[i], chunk=int(metas[i].get("chunk", 0)),
                      page=metas[i].get("page")) for i in order]
    return sources, {"embed_ms": round((t1 - t0) * 1000, 2),
                     "retrieve_ms": round((t2 - t1) * 1000, 2)}


__all__ = ["Search", "Source", "check_filter", "retrieve"]
