"""BM25 over a knowledge base's chunks: the words of a question, weighted by how rare they are.

Why next to the embedding search: a setting's line (`router_port: 8090  # the router`), a
header name or an error code is far from a question in embedding space and close in words.
On Fleet's own docs (bench/rag_quality) the passage holding the answer was outside the
embedding's top 50 for one question in 22 and below the top 4 for six; BM25 put it in its
top 3 for all but three. `hybrid` search (fleet.rag.retrieval) fuses both rankings.

The index is built from the collection's documents on the first query and kept per
process, keyed by the collection's id and revision (fleet.rag.knowledge sets a new one
whenever an ingest changes anything), so a query after an ingest never reads a stale index.
Postings are numpy arrays: a query costs one vector add per question word, not a pass over
every chunk. Given a sentence splitter, the index also holds postings of every chunk's
sentences, so a chunk can rank by its best sentence (`top_by_sentence`): a reference block
of settings is one chunk of many short lines.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("""a an and are as at be by can do does for from how i if in is it its of on
or that the this to what when where which who why will with""".split())
K1, B = 1.2, 0.75  # BM25's usual term-frequency saturation and length normalisation
CACHED = 8  # knowledge bases whose index a process keeps


def _singular(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"  # bodies: body
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]  # ports: port, but not process
    return w


def terms(text: str) -> list[str]:
    """Lower-case words split at anything not a letter or digit (router_port: router,
    port), stop words and single letters out (single digits stay: 'a limit of 0'), a
    plural made singular."""
    return [_singular(w) for w in _WORD.findall(text.lower())
            if w not in STOP and (len(w) > 1 or w.isdigit())]


def saturated(freq, length, mean_length):
    """BM25's weight of a word `freq` times in a text of `length` words (numbers or numpy
    arrays): more occurrences count less and less, a longer text's count less."""
    return freq * (K1 + 1) / (freq + K1 * (1 - B + B * length / mean_length))


class _Postings:
    """BM25 postings of a list of texts."""

    def __init__(self, texts: list[str]) -> None:
        docs = [Counter(terms(t)) for t in texts]
        lengths = np.asarray([sum(d.values()) for d in docs], dtype=np.float32)
        mean = max(float(lengths.mean()) if len(docs) else 1, 1)
        rows: dict[str, tuple[list[int], list[int]]] = {}
        for i, d in enumerate(docs):
            for w, f in d.items():
                r = rows.setdefault(w, ([], []))
                r[0].append(i)
                r[1].append(f)
        self.n = n = len(docs)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.idfs: dict[str, float] = {}
        for w, (where, freq) in rows.items():
            where_a, freq_a = np.asarray(where), np.asarray(freq, dtype=np.float32)
            idf = self.idfs[w] = math.log(1 + (n - len(where) + 0.5) / (len(where) + 0.5))
            self.postings[w] = (where_a, idf * saturated(freq_a, lengths[where_a], mean))

    def scores(self, question: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for w in set(terms(question)):
            if w in self.postings:
                where, weight = self.postings[w]
                out[where] += weight
        return out


def _best(ids: list[str], scores: np.ndarray, n: int) -> list[tuple[str, float]]:
    hit = np.flatnonzero(scores)
    best = hit[np.argsort(-scores[hit], kind="stable")[:n]]
    return [(ids[i], float(scores[i])) for i in best]


class Index:
    """BM25 postings of one collection's chunks and, given `split` (a chunk's text ->
    its sentences), of their sentences too."""

    def __init__(self, ids: list[str], texts: list[str], split=None) -> None:
        self.ids = ids
        self._chunks = _Postings(texts)
        self.n = self._chunks.n
        self._sentences: _Postings | None = None
        if split is not None:
            owners, parts = [], []
            for i, text in enumerate(texts):
                for sentence in split(text):
                    owners.append(i)
                    parts.append(sentence)
            self._owner = np.asarray(owners, dtype=np.int64)
            self._sentences = _Postings(parts)

    def idf(self, word: str) -> float:
        """How rare `word` (a term) is among the chunks: a word no chunk holds is rarest."""
        return self._chunks.idfs.get(word, math.log(1 + (self.n + 0.5) / 0.5))

    def top(self, question: str, n: int) -> list[tuple[str, float]]:
        """The `n` best chunks for `question` as (id, BM25 score), best first; only chunks
        holding at least one of its words."""
        return _best(self.ids, self._chunks.scores(question), n)

    def top_by_sentence(self, question: str, n: int) -> list[tuple[str, float]]:
        """The `n` chunks whose best sentence scores highest for `question` (BM25 over
        sentences; a chunk is as good as its best one). A reference block of settings is
        one long chunk of many short lines, and BM25 over the chunk weighs the one line
        that answers against everything else in it; over sentences, that line stands on
        its own (the MaxP of passage ranking: Dai and Callan, 2019)."""
        if self._sentences is None:
            return self.top(question, n)
        best = np.zeros(self.n, dtype=np.float32)
        np.maximum.at(best, self._owner, self._sentences.scores(question))
        return _best(self.ids, best, n)


_cache: OrderedDict[tuple, Index] = OrderedDict()
_lock = threading.Lock()


def index_of(coll, split=None) -> Index:
    """The BM25 index of `coll` at its current revision, built on first use; `split`: see
    Index (the same callable each time, for one cached index)."""
    key = (str(coll.id), (coll.metadata or {}).get("revision"), coll.count(), split)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    got = coll.get(include=["documents"])
    index = Index(list(got["ids"]), list(got["documents"]), split)
    with _lock:
        _cache[key] = index
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
    return index


__all__ = ["Index", "index_of", "saturated", "terms"]
