"""Grounded extractive answers: the sentences of the retrieved passages that answer the
question, each with its citation, instead of a small model's paraphrase.

Why it is the default (docs/architecture.md has the measured table, bench/rag_quality the
bench): on 2 CPU cores the packaged 135M chat model answered Fleet's own docs wrongly or
in loops, in 8-20 s; the right passage was almost always retrieved. Picking the answering
sentences with the embedding model already loaded for retrieval is right far more often,
in tens of milliseconds, and cannot say what the sources do not. A generative backend
(`rag.answer: generate`, any OpenAI-compatible server or vLLM) stays one setting away.

The passages are cut into sentences with their line wrapping undone (Markdown wraps
paragraphs, lists and tables line by line); each sentence is embedded with the question,
and the best few (by cosine similarity, weighted by their passage's own score) are
returned in the order they appear, each followed by its passage's number, [n]."""

from __future__ import annotations

import re

import numpy as np

MAX_SENTENCES = 2
MIN_CHARS, MAX_CHARS = 12, 600
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_(\[\"'])")
_MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+\.\s+|#+\s+|>\s*)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SETTING = re.compile(r"^\s*(?:- )?[\w.-]+:\s+\S")  # a YAML line (a chunk may start mid-block)
_COMMENT = re.compile(r"^\s{2,}#\s")  # its comment, wrapped onto the next line
_SENTENCE_MARK = re.compile(r"[.!?](\s|$)")


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items as single lines: wrapped lines joined, a list item or a
    table row its own block, fenced code line by line."""
    blocks, current, in_code = [], [], False

    def flush() -> None:  # the paragraph so far becomes a block
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if _FENCE.match(line):
            in_code = not in_code
            flush()
        elif _COMMENT.match(line) and blocks and not current:
            blocks[-1] += " " + line.strip().lstrip("# ")  # a setting's comment goes on
        elif in_code or line.lstrip().startswith("|") or _SETTING.match(line):
            flush()
            blocks.append(line.strip().strip("|").replace(" | ", "; "))
        elif not line.strip():
            flush()
        else:
            if _MARKUP.match(line):  # a new list item or heading starts a block
                flush()
            current.append(_MARKUP.sub("", line).strip())
    flush()
    return [re.sub(r"\s{2,}", " ", b).strip() for b in blocks
            if b.strip() and not _breadcrumb(b.strip())]


def _breadcrumb(block: str) -> bool:
    """The headings the splitter puts before a chunk ('Operating Fleet > fleet.yaml')."""
    return " > " in block and len(block) < 150 and not _SENTENCE_MARK.search(block)


def sentences(text: str) -> list[str]:
    out = []
    for block in _blocks(text):
        for s in _SENTENCE_END.split(block):
            s = s.strip()
            if MIN_CHARS <= len(s) <= MAX_CHARS and re.search(r"[A-Za-z]{3}", s):
                out.append(s)
    return out


_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("""a an and are as at be by can do does for from how i if in is it its of on
or that the this to what when where which who why will with default fleet""".split())
LEXICAL = 0.5  # how much the question's own words count next to the embedding's cosine


def words(text: str) -> set[str]:
    """Content words, split at anything not a letter or digit (router_port: router, port),
    a plural's s dropped."""
    out = set()
    for w in _WORD.findall(text.lower()):
        if w not in STOP and len(w) > 1:
            out.add(w[:-1] if len(w) > 3 and w.endswith("s") else w)
    return out


def overlap(question_words: set[str], text: str) -> float:
    """The share of the question's content words that `text` holds."""
    return len(question_words & words(text)) / len(question_words) if question_words else 0.0


def rerank(question: str, sources: list, k: int) -> list:
    """The best `k` of more passages than an answer needs: the embedding's score plus the
    share of the question's words each holds. A setting's line ('router_port: 8090') is
    far from a question in embedding space and close in words."""
    q = words(question)
    return sorted(sources, key=lambda s: -(s.score + LEXICAL * overlap(q, s.text)))[:k]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def extract(question: str, sources, embed, *, max_sentences: int = MAX_SENTENCES) -> str:
    """The answer from `sources` (fleet.rag.retrieval.Source, best first): the sentences
    closest to the question, in their order, each cited as [n] (its source's number)."""
    found = [(n, i, s) for n, src in enumerate(sources, start=1)
             for i, s in enumerate(sentences(src.text))]
    if not found:
        return ""
    vectors = _unit(np.asarray(embed([question] + [s for _, _, s in found]), dtype=np.float32))
    weight = np.asarray([max(sources[n - 1].score, 0.0) for n, _, _ in found])
    q = words(question)
    lexical = np.asarray([overlap(q, s) for _, _, s in found])
    ranked = np.argsort(-((vectors[1:] @ vectors[0]) * (0.5 + 0.5 * weight)
                          + LEXICAL * lexical))
    picked, seen = [], set()
    for k in ranked:
        text = found[k][2]
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        picked.append(found[k])
        if len(picked) == max_sentences:
            break
    picked.sort(key=lambda f: (f[0], f[1]))
    return " ".join(f"{s} [{n}]" for n, _, s in picked)


__all__ = ["MAX_SENTENCES", "extract", "rerank", "sentences", "words"]
