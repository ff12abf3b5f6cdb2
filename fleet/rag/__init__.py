"""Knowledge bases for retrieval-augmented generation: documents from a folder or S3 prefix
(documents), split (splitting), embedded (embeddings) into one Chroma collection each
(chroma, knowledge)."""

from fleet.rag.knowledge import IngestReport, chunk_id, collection, ingest

__all__ = ["IngestReport", "chunk_id", "collection", "ingest"]
