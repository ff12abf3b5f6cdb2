"""A question to a knowledge base, and what answers it: one request model and one
`Answerer` for both entry points (the rag_query function, and the RAG app's /ask).

An Answerer holds what is worth keeping between questions: the embedding function (its
model loads once per process) and the LLM backend (a local model stays loaded). The chain
and the chat model are made per question: the chat model records that question's usage,
and a Serve replica answers several questions at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from fleet.config import Settings
from fleet.names import KB_NAME
from fleet.rag.retrieval import Search


class QueryRequest(BaseModel):
    knowledge_base: str = Field(pattern=KB_NAME, description="3-63 characters: a-z, 0-9, "
                                "- and _, starting and ending with a letter or digit.")
    question: str = Field(min_length=1, max_length=4000)
    search: Search = Field(default_factory=Search,
                           description="similarity or mmr, k, fetch_k, lambda_mult, filter.")
    relevance_threshold: float | None = Field(
        None, ge=0, le=1, description="Below this best score: not in the knowledge base, "
                                      "without calling the model. Default "
                                      "rag.relevance_threshold.")
    max_tokens: int | None = Field(None, ge=1, le=4096,
                                   description="Default rag.answer_max_tokens.")
    answer: Literal["extractive", "generate"] | None = Field(
        None, description="extractive: the sources' own sentences that answer, cited; "
                          "generate: the LLM writes it. Default rag.answer.")


class Answerer:
    def __init__(self, settings: Settings, backend=None) -> None:
        from fleet.rag.embeddings import embedding_function

        self.settings = settings
        self.embed = embedding_function(settings.rag.embedding)
        self._backend = backend

    @property
    def backend(self):
        """The LLM backend, made on first use: an extractive answer never loads a model."""
        if self._backend is None:
            from fleet.llm.backends import backend_for

            self._backend = backend_for(self.settings)
        return self._backend

    def _extractive(self, req: QueryRequest) -> bool:
        return (req.answer or self.settings.rag.answer) == "extractive"

    def label(self, req: QueryRequest) -> str:
        """What writes `req`'s answer: the chat model, or the extractive answerer."""
        if self._extractive(req):
            return f"extractive ({self.settings.rag.embedding.model})"
        return self.backend.model

    def _prepared(self, req: QueryRequest):
        """(chain, chat model or None, threshold); NotFound here, before any answer
        starts, when the knowledge base does not exist."""
        from fleet.rag.chain import build_chain
        from fleet.rag.knowledge import existing

        coll = existing(self.settings, req.knowledge_base)
        threshold = (self.settings.rag.relevance_threshold if req.relevance_threshold is None
                     else req.relevance_threshold)
        if self._extractive(req):
            return (build_chain(coll, self.embed, None, req.search, threshold, extractive=True),
                    None, threshold)
        from fleet.llm.chat_model import FleetChatModel

        model = FleetChatModel(backend=self.backend,
                               max_tokens=req.max_tokens or self.settings.rag.answer_max_tokens)
        return build_chain(coll, self.embed, model, req.search, threshold), model, threshold

    def answer(self, req: QueryRequest):
        from fleet.rag.chain import answer

        chain, model, threshold = self._prepared(req)
        return answer(chain, model, req.question, threshold, self.label(req))

    def stream(self, req: QueryRequest) -> Iterator[tuple[str, Any]]:
        """The events of fleet.rag.chain.stream_answer. The knowledge base is looked up
        now, so a missing one raises before the first event."""
        from fleet.rag.chain import stream_answer

        chain, model, threshold = self._prepared(req)
        return stream_answer(chain, model, req.question, threshold, self.label(req))


__all__ = ["KB_NAME", "Answerer", "QueryRequest"]
