"""A knowledge base: one Chroma collection, kept in step with a source folder or S3 prefix.

Ingesting the same source again is idempotent, and costs only what changed:
- a chunk's id comes from its document's content hash and its place in the document, so the
  same content always gets the same ids;
- a document whose hash is already stored is not read into the model again;
- a changed document's new chunks are written before its old ones are deleted, so a query
  meanwhile finds one version or the other, never neither;
- a document gone from the source loses its chunks (only chunks that came from this source:
  one knowledge base may hold several).

Every chunk carries its source URI, the document's hash, its place, and the PDF page, which
the query side cites. An ingest that changed anything gives the collection a new
`revision` (its metadata), which the query side's BM25 index is keyed on.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from fleet import messages
from fleet.artifacts import ArtifactStore, DataAccess, parse
from fleet.config import Settings
from fleet.errors import Conflict, FieldProblem, InvalidInput, NotFound
from fleet.rag.chroma import client
from fleet.rag.documents import find, kind_of, read
from fleet.rag.embeddings import embedding_function
from fleet.rag.splitting import split

WRITE_BATCH = 256  # chunks per write: progress moves at least this often


@dataclass
class IngestReport:
    knowledge_base: str
    source: str
    files: int = 0  # supported files found
    added: int = 0  # documents new to the knowledge base
    replaced: int = 0  # documents whose content changed
    unchanged: int = 0
    removed: int = 0  # documents gone from the source
    chunks_written: int = 0
    chunks_deleted: int = 0
    chunks_total: int = 0  # chunks from this source after the ingest
    skipped: list[dict] = field(default_factory=list)  # {file, reason}


def chunk_id(uri: str, sha256: str, index: int) -> str:
    return hashlib.sha256(f"{uri}\0{sha256}\0{index}".encode()).hexdigest()[:40]


def collection(settings: Settings, name: str):
    """The collection of knowledge base `name`, made with the configured embedding function
    and cosine distance (set explicitly: Chroma's default is L2)."""
    ef = embedding_function(settings.rag.embedding)
    try:
        return client(settings).get_or_create_collection(
            name=name, embedding_function=ef, configuration={"hnsw": {"space": "cosine"}})
    except ValueError as exc:
        if "onflict" in str(exc) or "embedding function" in str(exc).lower():
            raise Conflict(messages.RAG_EMBEDDING_CONFLICT.format(
                kb=name, model=settings.rag.embedding.model)) from None
        raise


def existing(settings: Settings, name: str):
    """The collection of a knowledge base that has been ingested and holds documents;
    NotFound otherwise (a query must not create an empty one, and an empty one has nothing
    to answer from)."""
    from chromadb.errors import NotFoundError

    try:
        coll = client(settings).get_collection(
            name=name, embedding_function=embedding_function(settings.rag.embedding))
    except (NotFoundError, ValueError) as exc:
        if isinstance(exc, NotFoundError) or "does not exist" in str(exc):
            raise NotFound(messages.RAG_NO_KB.format(kb=name)) from None
        raise
    if coll.count() == 0:  # made, then emptied (every document removed): nothing to ask
        raise NotFound(messages.RAG_KB_EMPTY.format(kb=name))
    return coll


def ingest(settings: Settings, name: str, source: str, *, chunk_size: int,
           chunk_overlap: int, progress: Callable[..., object] = lambda **_: None,
           artifacts: ArtifactStore | None = None,
           access: DataAccess | None = None) -> IngestReport:
    """Bring the knowledge base `name` in line with `source`. `access`: for a request, the
    data roots each file is checked against once it is opened (fleet.artifacts.access)."""
    artifacts = artifacts or ArtifactStore(settings)
    limit = settings.rag.max_file_bytes
    found = find(artifacts, source)
    first = None
    if found == [str(parse(source))]:
        # One file named as the source: if it cannot be read, the request is wrong. Refuse
        # it before the collection is made or touched.
        try:
            first = read(artifacts, found[0], limit, access)
        except ValueError as exc:
            raise InvalidInput(messages.RAG_SOURCE_UNREADABLE.format(uri=source, reason=exc),
                               [FieldProblem("source", str(exc))]) from None
    coll = collection(settings, name)
    report = IngestReport(knowledge_base=name, source=source)
    stored: dict[str, dict[str, list[str]]] = {}  # uri -> sha256 -> chunk ids
    got = coll.get(where={"root": source}, include=["metadatas"])
    for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
        stored.setdefault(meta["source"], {}).setdefault(meta["sha256"], []).append(cid)

    uris = [u for u in found if kind_of(u)]
    report.files = len(uris)
    progress(files_total=len(uris), files_done=0, chunks_written=0)
    for done, uri in enumerate(uris, start=1):
        old = stored.pop(uri, {})
        try:
            doc = first or read(artifacts, uri, limit, access)
        except ValueError as exc:
            report.skipped.append({"file": uri, "reason": str(exc)})
            report.chunks_deleted += _delete(coll, [i for ids in old.values() for i in ids])
            continue
        if set(old) == {doc.sha256}:
            report.unchanged += 1
            report.chunks_total += len(old[doc.sha256])
        else:
            chunks = split(doc, chunk_size, chunk_overlap)
            ids = [chunk_id(uri, doc.sha256, i) for i in range(len(chunks))]
            metas = [{"root": source, "source": uri, "sha256": doc.sha256, "chunk": i,
                      "start": c.start, "kind": doc.kind,
                      **({"page": c.page} if c.page is not None else {})}
                     for i, c in enumerate(chunks)]
            for i in range(0, len(chunks), WRITE_BATCH):
                coll.upsert(ids=ids[i:i + WRITE_BATCH],
                            documents=[c.text for c in chunks[i:i + WRITE_BATCH]],
                            metadatas=metas[i:i + WRITE_BATCH])
                report.chunks_written += len(ids[i:i + WRITE_BATCH])
                progress(files_total=len(uris), files_done=done - 1,
                         chunks_written=report.chunks_written)
            stale = [i for sha, ids_ in old.items() if sha != doc.sha256 for i in ids_]
            report.chunks_deleted += _delete(coll, stale)
            report.chunks_total += len(ids)
            if old:
                report.replaced += 1
            else:
                report.added += 1
        progress(files_total=len(uris), files_done=done, chunks_written=report.chunks_written)
    for _uri, old in stored.items():  # gone from the source
        report.removed += 1
        report.chunks_deleted += _delete(coll, [i for ids in old.values() for i in ids])
    if report.chunks_written or report.chunks_deleted:
        # A new revision: every process's BM25 index of the old one (fleet.rag.lexical)
        # is rebuilt on its next query.
        coll.modify(metadata={**(coll.metadata or {}), "revision": uuid.uuid4().hex})
    return report


def _delete(coll, ids: list[str]) -> int:
    for i in range(0, len(ids), WRITE_BATCH):
        coll.delete(ids=ids[i:i + WRITE_BATCH])
    return len(ids)


__all__ = ["IngestReport", "chunk_id", "collection", "existing", "ingest"]
