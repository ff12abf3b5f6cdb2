"""Retrieval-augmented generation: knowledge bases built from documents (fleet.rag)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from fleet import function
from fleet.artifacts import ReadLocation, data_access, to_uri
from fleet.config import RagConfig, chunks_fit, load_settings
from fleet.names import KB_NAME
from fleet.rag.query import QueryRequest
from fleet.runtime.context import Progress


class IngestRequest(BaseModel):
    knowledge_base: str = Field(pattern=KB_NAME, description="3-63 characters: a-z, 0-9, "
                                "- and _, starting and ending with a letter or digit.")
    source: ReadLocation = Field(description="A file, folder or S3 prefix under a data root: "
                                 "markdown, text, HTML and PDF files are read.")
    chunk_size: int | None = Field(None, ge=50, le=100_000,
                                   description="Characters per chunk; default rag.chunk_size.")
    chunk_overlap: int | None = Field(None, ge=0,
                                      description="Default rag.chunk_overlap.")

    def sizes(self, rag: RagConfig) -> tuple[int, int]:
        """(chunk_size, chunk_overlap): this request's, else the settings'."""
        return (self.chunk_size or rag.chunk_size,
                rag.chunk_overlap if self.chunk_overlap is None else self.chunk_overlap)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IngestRequest:
        chunks_fit(*self.sizes(load_settings().rag))
        return self


class IngestResult(BaseModel):
    knowledge_base: str
    source: str
    files: int
    added: int
    replaced: int
    unchanged: int
    removed: int
    chunks_written: int
    chunks_deleted: int
    chunks_total: int
    skipped: list[dict]
    seconds: float


@function(cpus=0.5, memory_mb=1024, timeout_s=6 * 3600, retries=1,
          requires=lambda req: ("write", f"kb:{req.knowledge_base}"))
def rag_ingest(req: IngestRequest) -> IngestResult:
    """Load, split and embed documents into a knowledge base; again to bring it up to date
    (unchanged documents are skipped, changed ones replaced, removed ones deleted)."""
    import dataclasses
    import time

    from fleet.rag import ingest

    settings = load_settings()
    started = time.monotonic()
    progress = Progress()
    size, overlap = req.sizes(settings.rag)
    report = ingest(settings, req.knowledge_base, to_uri(req.source), chunk_size=size,
                    chunk_overlap=overlap, progress=lambda **f: progress.update(**f),
                    access=data_access(settings))  # each file, once opened
    progress.update(force=True, files_total=report.files, files_done=report.files,
                    chunks_written=report.chunks_written)
    return IngestResult(**dataclasses.asdict(report),
                        seconds=round(time.monotonic() - started, 3))


class QueryResult(BaseModel):
    answer: str
    in_knowledge_base: bool
    sources: list[dict]
    latency_ms: dict
    usage: dict
    model: str


@function(cpus=0.25, memory_mb=1536, timeout_s=600, retries=1)
def rag_query(req: QueryRequest) -> QueryResult:
    """Answer a question from a knowledge base: retrieve, then answer from what was found
    (the passages' own sentences, cited, or the configured LLM: rag.answer); with sources,
    their scores and a latency breakdown."""
    import dataclasses

    from fleet.rag.query import Answerer

    answerer = Answerer(load_settings())
    result = answerer.answer(req)
    return QueryResult(**dataclasses.asdict(result))
