"""Knowledge bases for retrieval-augmented generation: documents from a folder or S3 prefix
(documents), split (splitting), embedded (embeddings) into one Chroma collection each
(chroma, knowledge), found again for a question (retrieval) and answered by a LangChain
chain (chain).

The names load on first use: the gateway imports functions/rag.py (for its request
models) and must not pay for Chroma and torch at start."""

from __future__ import annotations

import importlib

_WHERE = {"IngestReport": "knowledge", "chunk_id": "knowledge", "collection": "knowledge",
          "existing": "knowledge", "ingest": "knowledge", "Search": "retrieval",
          "Source": "retrieval", "retrieve": "retrieval", "build_chain": "chain",
          "answer": "chain", "stream_answer": "chain", "Answerer": "query",
          "QueryRequest": "query"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'fleet.rag' has no attribute '{name}'")
    return getattr(importlib.import_module(f"fleet.rag.{_WHERE[name]}"), name)
