"""Knowledge bases for retrieval-augmented generation: documents from a folder or S3 prefix
(documents), split (splitting), embedded (embeddings) into one Chroma collection each
(chroma, knowledge), and found again for a question (retrieval)."""

from fleet.rag.knowledge import IngestReport, chunk_id, collection, ingest
from fleet.rag.retrieval import Search, Source, retrieve

__all__ = ["IngestReport", "Search", "Source", "chunk_id", "collection", "ingest", "retrieve"]
