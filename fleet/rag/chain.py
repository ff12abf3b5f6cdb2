"""A RAG query as a LangChain (LCEL) chain:

    retrieve -> assign(answer = relevant ? (context | prompt | model | text) : not found)

The retrieve step is fleet.rag.retrieval (similarity or MMR, scores, filters); the model is
fleet.llm's chat model over the configured backend, so `chain.stream` yields the answer
token by token (the RAG app's /ask streams it as Server-Sent Events). When the best source
scores below the relevance threshold the model is not called at all: a question the
knowledge base cannot answer costs a retrieval, and gets no invented answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBranch, RunnableLambda, RunnablePassthrough

from fleet import messages
from fleet.rag.extractive import WIDE, Ranked, extract, rank, sentences
from fleet.rag.retrieval import Search, Source, retrieve

PROMPT = ChatPromptTemplate.from_messages([
    ("system", "Answer the question using only the numbered context passages. If they do "
               "not contain the answer, say that you don't know. Answer briefly."),
    ("human", "Context:\n{context}\n\nQuestion: {question}"),
])


def context_of(sources: list[Source]) -> str:
    return "\n\n".join(f"[{i}] {s.text}" for i, s in enumerate(sources, start=1))


def best_score(sources: list[Source], ranked: Ranked | None = None) -> float:
    """The best cosine score among `sources` (a hybrid search orders them by fused rank,
    not by score) or, when the extractive ranking weighed them, their sentences: a short
    question is nearer the one line that answers it than the long passage around it.
    0 when there are none."""
    return max([s.score for s in sources] + [ranked.best_cosine if ranked else 0.0])


def build_chain(coll, embed, model, search: Search, threshold: float,
                extractive: bool = False):
    """`extractive`: the answer is the passages' own sentences that answer the question
    (fleet.rag.extractive), and `model` is not called; else `model` generates it. An
    extractive chain weighs the sentences of more passages than it keeps (at least
    fleet.rag.extractive.WIDE), orders the passages by their best sentence and keeps `k`;
    a passage counts as relevant when it, or its best sentence, reaches the threshold."""
    wide = search.model_copy(update={
        "k": max(search.k, WIDE), "fetch_k": max(search.fetch_k, WIDE)}) \
        if extractive and search.search != "mmr" else search

    def retrieved(question: str) -> dict:
        sources, timings = retrieve(coll, embed, question, wide)
        state = {"question": question, "sources": sources, "timings": timings}
        if extractive:
            from fleet.rag.lexical import index_of

            started = time.perf_counter()
            ranked = rank(question, sources, embed, search.k, index_of(coll, sentences).idf)
            timings["rank_ms"] = round((time.perf_counter() - started) * 1000, 2)
            state.update(sources=ranked.sources, ranked=ranked)
        return state

    def relevant(state: dict) -> bool:
        return best_score(state["sources"], state.get("ranked")) >= threshold

    def not_found(state: dict) -> str:
        best = best_score(state["sources"], state.get("ranked"))
        return messages.RAG_NOT_IN_KB.format(score=best, threshold=threshold)

    if extractive:
        generate = RunnableLambda(lambda s: extract(s["ranked"]))
    else:
        generate = (RunnablePassthrough.assign(context=lambda s: context_of(s["sources"]))
                    | PROMPT | model | StrOutputParser())
    return RunnableLambda(retrieved) | RunnablePassthrough.assign(
        answer=RunnableBranch((relevant, generate), RunnableLambda(not_found)))


@dataclass
class Answer:
    answer: str
    in_knowledge_base: bool
    sources: list[dict]
    latency_ms: dict
    usage: dict = field(default_factory=dict)
    model: str = ""  # what wrote the answer: the chat model, or "extractive (embedding)"


def stream_answer(chain, model, question: str, threshold: float, label: str = ""
                  ) -> Iterator[tuple[str, Any]]:
    """Run the chain once, as events: ("sources", [...]) as soon as retrieval is done (empty
    when nothing passed the threshold), then ("token", text) per piece of the answer, then
    ("done", {in_knowledge_base, latency_ms, usage, model}). The latency breakdown is embed,
    retrieve, generate and total; generate is 0 when nothing was generated or extracted.
    `model` None: an extractive chain."""
    if model is not None:
        model.last_usage = None
    started = time.perf_counter()
    timings: dict = {}
    found = False
    for chunk in chain.stream(question):
        if "sources" in chunk:
            sources, timings = chunk["sources"], chunk["timings"]
            found = bool(sources) and best_score(sources, chunk.get("ranked")) >= threshold
            yield "sources", [s.public() for s in sources] if found else []
        if chunk.get("answer"):
            yield "token", chunk["answer"]
    total = (time.perf_counter() - started) * 1000
    used = model.last_usage if model is not None else None
    generate = total - timings.get("embed_ms", 0) - timings.get("retrieve_ms", 0)
    yield "done", {
        "in_knowledge_base": found,
        "latency_ms": {**timings, "generate_ms": round(max(generate, 0), 2)
                       if used or (model is None and found) else 0.0,
                       "total_ms": round(total, 2)},
        "usage": {"prompt_tokens": used.prompt_tokens,
                  "completion_tokens": used.completion_tokens} if used else {},
        "model": label}


def answer(chain, model, question: str, threshold: float, label: str = "") -> Answer:
    """The whole answer at once (stream_answer, collected)."""
    pieces: list[str] = []
    sources: list[dict] = []
    for kind, data in stream_answer(chain, model, question, threshold, label):
        if kind == "sources":
            sources = data
        elif kind == "token":
            pieces.append(data)
        else:
            done = data
    return Answer(answer="".join(pieces).strip(), sources=sources, **done)


__all__ = ["PROMPT", "Answer", "answer", "build_chain", "context_of", "stream_answer"]
