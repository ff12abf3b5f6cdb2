"""The documents of a knowledge base: found under a file path or an S3 prefix (through the
artifact store, so the same credentials and roots apply) and turned into plain text.

Markdown, text, HTML and PDF are read; anything else is reported as skipped, never fatal.
A PDF gives one part per page, so an answer can cite the page; the other kinds give one.
A file that cannot be read (a broken PDF, an encrypted one) is skipped with the reason.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from fleet import messages
from fleet.artifacts import ArtifactStore, DataAccess, join, parse

TEXT = (".md", ".markdown", ".txt", ".rst")
HTML = (".html", ".htm")
PDF = (".pdf",)
SUPPORTED = TEXT + HTML + PDF


@dataclass(frozen=True)
class Part:
    text: str
    page: int | None = None  # 1-based, PDFs only


@dataclass
class Document:
    uri: str
    kind: str  # "markdown", "text", "html" or "pdf"
    sha256: str
    parts: list[Part] = field(default_factory=list)


def kind_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".md", ".markdown")):
        return "markdown"
    if lower.endswith((".txt", ".rst")):
        return "text"
    if lower.endswith(HTML):
        return "html"
    if lower.endswith(PDF):
        return "pdf"
    return None


def find(artifacts: ArtifactStore, source: str) -> list[str]:
    """Every file URI under `source` (a folder or prefix), or `source` itself if it is a
    file. Sorted, so progress and ids come out the same on every run."""
    u = parse(source)
    if u.scheme == "file" and u.path.is_file():
        return [str(u)]
    found = [join(str(u), key) for key in artifacts.list(str(u))]
    if not found and u.scheme == "s3" and u.key and artifacts.exists(str(u)):
        return [str(u)]
    return sorted(found)


def read(artifacts: ArtifactStore, uri: str, max_bytes: int,
         access: DataAccess | None = None) -> Document:
    """The document at `uri`, as text parts. Raises ValueError with a reason a person can act
    on when the file cannot be read: an unsupported type, over `max_bytes` (checked before
    it is downloaded), empty, binary where text was expected, or (with `access`, for a
    request) a local file that turns out to be outside what the request may read."""
    kind = kind_of(uri)
    if kind is None:
        raise ValueError(f"not a supported type (use one of {', '.join(SUPPORTED)})")
    u = parse(uri)
    if u.scheme == "file":
        raw = _read_local(u.path, max_bytes, access)
    else:
        size = artifacts.size(uri)
        if size > max_bytes:
            raise ValueError(messages.RAG_FILE_TOO_BIG.format(size=size, limit=max_bytes))
        raw = artifacts.get_bytes(uri)
    if not raw.strip():
        raise ValueError("the file is empty")
    if kind != "pdf" and b"\0" in raw[:8192]:
        raise ValueError(messages.RAG_FILE_BINARY)
    doc = Document(uri=uri, kind=kind, sha256=hashlib.sha256(raw).hexdigest())
    if kind == "pdf":
        doc.parts = list(_pdf_pages(raw))
    elif kind == "html":
        doc.parts = [Part(_html_text(raw))]
    else:
        doc.parts = [Part(raw.decode("utf-8", errors="replace"))]
    doc.parts = [p for p in doc.parts if p.text.strip()]
    if not doc.parts:
        raise ValueError("no text could be extracted (a scanned PDF needs OCR first)"
                         if kind == "pdf" else "the file has no text")
    return doc


def _read_local(path, max_bytes: int, access: DataAccess | None) -> bytes:
    """A local file's bytes, checked after it is opened when `access` is given: the folder
    was checked when the request was validated, and a link swapped in since then must not
    be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:  # gone or unreadable since it was listed: skipped with why
        raise ValueError(f"it could not be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if access is not None and not access.opened_allowed(fd):
            raise ValueError(messages.RAG_FILE_OUTSIDE)
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ValueError(messages.RAG_FILE_TOO_BIG.format(size=size, limit=max_bytes))
        return f.read()


def _html_text(raw: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text(separator="\n").splitlines())
    return "\n".join(line for line in lines if line)


def _pdf_pages(raw: bytes) -> Iterator[Part]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else [p.extract_text() or "" for p in reader.pages]
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise ValueError(f"the PDF could not be read ({exc})") from None
    if encrypted:
        raise ValueError("the PDF is encrypted: decrypt it before ingesting")
    for number, text in enumerate(pages, start=1):
        yield Part(text, page=number)


__all__ = ["SUPPORTED", "Document", "Part", "find", "kind_of", "read"]
