"""Documents into chunks, with LangChain's RecursiveCharacterTextSplitter: paragraphs first,
then lines, then words, so a chunk breaks where the text does. Markdown is split at its
headings and code fences first (the splitter's markdown separators)."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.rag.documents import Document


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    start: int  # character offset in its part (the page, for a PDF)


def split(doc: Document, size: int, overlap: int) -> list[Chunk]:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    if doc.kind == "markdown":
        splitter = RecursiveCharacterTextSplitter.from_language(
            Language.MARKDOWN, chunk_size=size, chunk_overlap=overlap, add_start_index=True)
    else:
        splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap,
                                                  add_start_index=True)
    out: list[Chunk] = []
    for part in doc.parts:
        for piece in splitter.create_documents([part.text]):
            out.append(Chunk(piece.page_content, part.page, piece.metadata["start_index"]))
    return out


__all__ = ["Chunk", "split"]
