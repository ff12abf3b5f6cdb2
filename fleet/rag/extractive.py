"""Grounded extractive answers: the sentences of the retrieved passages that answer the
question, each with its citation, instead of a small model's paraphrase.

Why it is the default (docs/architecture.md has the measured table, bench/rag_quality the
bench): on 2 CPU cores the packaged 135M chat model answered Fleet's own docs wrongly or
in loops, in 8-20 s; the right passage was almost always retrieved. Picking the answering
sentences with the embedding model already loaded for retrieval is right far more often,
in tens of milliseconds, and cannot say what the sources do not. A generative backend
(`rag.answer: generate`, any OpenAI-compatible server or vLLM) stays one setting away.

The passages are cut into sentences with their line wrapping undone (Markdown wraps
paragraphs, lists and tables line by line; a YAML setting gets its parent keys, so
`model: X` under `llm:` reads `llm.model: X`); each sentence is embedded with the question
and scored by its cosine and the question's rare words it holds (`rank`); the passages are
ordered by their best sentence, and the best few sentences are returned in the order they
appear, each followed by its passage's number, [n] (`extract`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from fleet.rag.lexical import saturated, terms

MAX_SENTENCES = 2
MIN_CHARS, MAX_CHARS = 12, 600
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*_(\[\"'])")
_MARKUP = re.compile(r"^\s*(?:[-*+]\s+|\d+\.\s+|#+\s+|>\s*)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SETTING = re.compile(r"^\s*(?:- )?[\w.-]+:\s+\S")  # a YAML line (a chunk may start mid-block)
_COMMENT = re.compile(r"^\s{2,}#\s")  # its comment, wrapped onto the next line
_ROW = "\x00"  # marks a table row among the blocks
_HEADING = re.compile(r"^#{1,6}\s")
ANNOUNCED = 2  # code lines a sentence ending in ':' takes from the block after it
_PARENT = re.compile(r"^\s*[\w.-]+:$")  # a YAML key whose value is the lines below it
_KEY = re.compile(r"^(\s*)(?:- )?([\w.-]+):(?:\s+(.*))?$")  # a YAML key, its indent, value
_SENTENCE_MARK = re.compile(r"[.!?](\s|$)")


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items as single lines: wrapped lines joined, a list item or a
    table row its own block, fenced code line by line, a YAML setting with its parents'
    keys ('llm.model: X'). A sentence that ends in a colon before a code block ('Run the
    server with reload:') takes the block's first lines, which are what it announces.
    Headings are no answer: they are left out, as is the splitter's breadcrumb."""
    blocks, current, in_code = [], [], False
    parents: list[tuple[int, str]] = []  # (indent, key) of the YAML keys above this line
    announced = 0  # code lines still to join to the sentence that announced them

    def flush() -> None:  # the paragraph so far becomes a block
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if _FENCE.match(line):
            in_code = not in_code
            parents.clear()
            flush()
            announced = ANNOUNCED if in_code and blocks and blocks[-1].endswith(":") else 0
        elif in_code and announced and line.strip():
            blocks[-1] += " " + line.strip()
            announced -= 1
        elif not in_code and _HEADING.match(line):
            flush()
        elif _COMMENT.match(line) and blocks and not current:
            blocks[-1] += " " + line.strip().lstrip("# ")  # a setting's comment goes on
        elif line.lstrip().startswith("|"):
            flush()
            blocks.append(_ROW + line.strip().strip("|").replace(" | ", "; "))
        elif in_code or _SETTING.match(line) or _PARENT.match(line):
            flush()
            blocks.append(_with_parents(line, parents))
        elif not line.strip():
            flush()
        else:
            if _MARKUP.match(line):  # a new list item or heading starts a block
                flush()
            current.append(_MARKUP.sub("", line).strip())
    flush()
    return [re.sub(r"\s{2,}", " ", b).strip() for b in blocks
            if b.strip() and not _breadcrumb(b.strip())]


def _with_parents(line: str, parents: list[tuple[int, str]]) -> str:
    """A code or YAML line; a YAML key gets the keys it sits under, and a key with no value
    of its own becomes the parent of the lines indented below it."""
    m = _KEY.match(line)
    if not m:
        return line.strip()
    indent, key, value = len(m.group(1)), m.group(2), (m.group(3) or "").strip()
    parents[:] = [p for p in parents if p[0] < indent]
    path = "".join(f"{k}." for _, k in parents)
    if not value or value.startswith("#"):
        parents.append((indent, key))
    return path + line.strip()


def _breadcrumb(block: str) -> bool:
    """The headings the splitter puts before a chunk ('Operating Fleet > fleet.yaml')."""
    return " > " in block and len(block) < 150 and not _SENTENCE_MARK.search(block)


def sentences(text: str) -> list[str]:
    """The sentences of `text` (fleet.rag.splitting's chunks): each block cut at sentence
    ends. A table row's later sentences keep the row's first cell, its subject ('`fleet
    doctor`; `make demo` runs it first'): cut loose, 'it' would name nothing."""
    out = []
    for block in _blocks(text):
        row = block.startswith(_ROW)
        parts = _SENTENCE_END.split(block.lstrip(_ROW))
        subject = parts[0].split("; ", 1)[0].strip() if row and len(parts) > 1 else ""
        for i, s in enumerate(parts):
            s = (f"{subject}; " if subject and i else "") + s.strip()
            if MIN_CHARS <= len(s) <= MAX_CHARS and re.search(r"[A-Za-z]{3}", s):
                out.append(s)
    return out


LEXICAL = 0.5  # how much the question's own (rare) words count next to the cosine
KEYED = 0.3  # a 'key: value' line whose key is what the question asks about
# A setting's line: a lower-case key path, as YAML, TOML-ish and env files write them. A
# prose label ('OpenTelemetry: use ...') starts with a capital and is no setting.
_KEYED_LINE = re.compile(r"^([a-z][\w.-]*):\s+\S")
# A question that asks for a value or a name ('Which port ...', 'What is the default ...',
# 'How long ...'), which a setting's line can answer; 'How do I ...' and 'Why ...' ask for
# a procedure or a reason, which a setting's line only mentions.
_ASKS_VALUE = re.compile(r"^\s*(?:which|what)\b|\bhow (?:many|much|long|large|big|often)\b",
                         re.IGNORECASE)
PASSAGE = 0.5  # how much a sentence's cosine leans on its passage's own score
WIDE = 6  # passages whose sentences are weighed, of which the best k are kept


@dataclass(frozen=True)
class Ranked:
    """Passages ordered by their best sentence, and every sentence's score.
    `sentences`: (passage number in `sources`, from 1; position; text; score)."""

    sources: list
    sentences: list[tuple[int, int, str, float]]
    best_cosine: float  # the sentence nearest the question: a second relevance signal


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _lexical(asked: set[str], sentence_terms: list[list[str]], idf) -> np.ndarray:
    """BM25 of each sentence for the question's words, as a share of the most a sentence
    could score: rare words count more, and a long sentence (a table row listing half the
    project) gains less from each word it happens to hold."""
    if not asked:
        return np.zeros(len(sentence_terms))
    avg = max(float(np.mean([len(t) for t in sentence_terms])), 1.0)
    most = sum(idf(w) for w in asked)  # each word once, in a sentence of average length
    return np.asarray([sum(idf(w) * saturated(f, len(words), avg)
                           for w in asked if (f := words.count(w))) / most
                       for words in sentence_terms])


def _keyed(sentence: str, asked: set[str]) -> float:
    """How much of a 'key: value' line's key the question asks about: 1.0 for
    'rag.embedding.model: all-MiniLM-L6-v2' and 'Which embedding model ...' (two of its
    words asked, or all of a shorter key), 0.5 for one word. Such a line
    (a setting, a definition) states the value of the thing it names, and is short; a
    sentence that only mentions the same words in passing is not an answer, though its
    cosine may be higher (a table row listing half the project scored 0.68 where the
    setting's line scored 0.45)."""
    m = _KEYED_LINE.match(sentence)
    if not m:
        return 0.0
    key = set(terms(m.group(1)))
    # Two asked words name a setting well enough ('embedding model' for
    # rag.embedding.model, whose section 'rag' a question rarely says).
    return len(key & asked) / min(len(key), 2) if key else 0.0


def rank(question: str, sources: list, embed, k: int, idf=None) -> Ranked:
    """The best `k` of `sources` (fleet.rag.retrieval.Source), judged by their sentences:
    each sentence's cosine to the question, weighted by its passage's own score, plus the
    share of the question's words it holds, each word weighted by `idf` (a callable: rare
    words count more; fleet.rag.lexical.Index.idf). A passage ranks by its best sentence,
    so the passage that answers comes first even when a longer one is nearer as a whole;
    a setting's line ('router_port: 8090') is far from a question in embedding space and
    close in words."""
    idf = idf or (lambda _w: 1.0)
    found = [(n, i, s) for n, src in enumerate(sources, start=1)
             for i, s in enumerate(sentences(src.text))]
    if not found:
        return Ranked(list(sources[:k]), [], 0.0)
    vectors = _unit(np.asarray(embed([question] + [s for _, _, s in found]), dtype=np.float32))
    cosine = vectors[1:] @ vectors[0]
    weight = np.asarray([max(sources[n - 1].score, 0.0) for n, _, _ in found])
    asked = set(terms(question))
    lexical = _lexical(asked, [terms(s) for _, _, s in found], idf)
    keyed = (np.asarray([_keyed(s, asked) for _, _, s in found])
             if _ASKS_VALUE.search(question) else np.zeros(len(found)))
    score = cosine * (1 - PASSAGE + PASSAGE * weight) + LEXICAL * lexical + KEYED * keyed
    best: dict[int, float] = {}
    for (n, _, _), sc in zip(found, score, strict=True):
        best[n] = max(best.get(n, -1.0), float(sc))
    order = sorted(range(1, len(sources) + 1), key=lambda n: -best.get(n, -1.0))[:k]
    renumber = {old: new for new, old in enumerate(order, start=1)}
    kept = [(renumber[n], i, s, float(sc)) for (n, i, s), sc in zip(found, score, strict=True)
            if n in renumber]
    return Ranked([sources[n - 1] for n in order], kept, float(cosine.max()))


def extract(ranked: Ranked, *, max_sentences: int = MAX_SENTENCES) -> str:
    """The answer: the best-scored sentences of `ranked`, in their order in the passages,
    each cited as [n] (its passage's number)."""
    picked, seen = [], set()
    for n, i, text, _ in sorted(ranked.sentences, key=lambda f: -f[3]):
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        picked.append((n, i, text))
        if len(picked) == max_sentences:
            break
    picked.sort(key=lambda f: (f[0], f[1]))
    return " ".join(f"{s} [{n}]" for n, _, s in picked)


__all__ = ["MAX_SENTENCES", "WIDE", "Ranked", "extract", "rank", "sentences"]
