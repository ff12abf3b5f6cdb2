"""The retrieve step against a real embedded Chroma and the packaged model: nearest chunks
by cosine similarity, BM25 fused with them (hybrid, the default), MMR's diversity, metadata
filters and their errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fleet.config import clear_cache, load_settings
from fleet.errors import InvalidInput
from fleet.rag import collection, ingest
from fleet.rag.embeddings import embedding_function
from fleet.rag.retrieval import Search, retrieve
from tests.support.documents import NETWORK, write_corpus, write_settings_corpus

pytestmark = pytest.mark.filterwarnings("ignore")

DUPLICATES = {
    "refund-a.txt": "Refunds are possible within 30 days of delivery.",
    "refund-b.txt": "Refunds are possible within 30 days after delivery.",
    "refund-c.txt": "Refunds are possible in the 30 days after delivery.",
    "money-back.txt": "Unhappy with a purchase? Send it back and we return your money to "
                      "the card you paid with.",
}


@pytest.fixture(scope="module")
def kb_settings(tmp_path_factory):
    """(settings, folder) of the knowledge base 'settings' (SETTINGS), in its own home."""
    root = tmp_path_factory.mktemp("retrieval-settings")
    (root / "home").mkdir()
    clear_cache()
    settings = load_settings(root / "home")
    write_settings_corpus(root / "settings")
    ingest(settings, "settings", (root / "settings").as_uri(), chunk_size=300, chunk_overlap=30)
    return settings, root / "settings"


@pytest.fixture(scope="module")
def kb(tmp_path_factory, kb_settings):
    root = tmp_path_factory.mktemp("retrieval")
    home = root / "home"
    home.mkdir()
    clear_cache()
    settings = load_settings(home)
    write_corpus(root / "docs")
    for name, text in DUPLICATES.items():
        (root / "dups" / name).parent.mkdir(exist_ok=True)
        (root / "dups" / name).write_text(text)
    for name, folder in (("handbook", "docs"), ("dups", "dups")):
        ingest(settings, name, (root / folder).as_uri(), chunk_size=200, chunk_overlap=20)
    embed = embedding_function(settings.rag.embedding)
    return lambda name: (collection(kb_settings[0] if name == "settings" else settings, name),
                         embed)


def test_similarity_gives_the_nearest_chunks_best_first(kb):
    coll, embed = kb("handbook")
    sources, timings = retrieve(coll, embed, "How long do I have to return an item?",
                                Search(search="similarity", k=3))
    assert len(sources) == 3
    assert sources[0].source.endswith("refunds.md")
    assert [s.score for s in sources] == sorted((s.score for s in sources), reverse=True)
    assert 0 < sources[-1].score < sources[0].score <= 1
    assert timings["embed_ms"] > 0 and timings["retrieve_ms"] > 0


def test_a_question_from_elsewhere_scores_low(kb):
    coll, embed = kb("handbook")
    near, _ = retrieve(coll, embed, "How long do I have to return an item?", Search(k=1))
    far, _ = retrieve(coll, embed, "What is the boiling point of liquid nitrogen?",
                      Search(k=1))
    assert far[0].score < 0.3 < near[0].score


def test_mmr_trades_a_near_copy_for_another_relevant_chunk(kb):
    coll, embed = kb("dups")
    question = "Can I get a refund within 30 days of delivery?"
    plain, _ = retrieve(coll, embed, question, Search(search="similarity", k=2))
    assert all("refund-" in s.source for s in plain)  # two near-copies
    diverse, _ = retrieve(coll, embed, question, Search(search="mmr", k=2, fetch_k=4,
                                                        lambda_mult=0.3))
    names = sorted(s.source.rsplit("/", 1)[1] for s in diverse)
    assert names[0] == "money-back.txt" and names[1].startswith("refund-")


def test_a_filter_narrows_the_search(kb):
    coll, embed = kb("handbook")
    sources, _ = retrieve(coll, embed, "How long do I have to return an item?",
                          Search(k=3, filter={"kind": "pdf"}))
    assert sources and all(s.source.endswith("warranty.pdf") for s in sources)
    assert {s.page for s in sources} <= {1, 2}
    page2, _ = retrieve(coll, embed, "battery",
                        Search(k=3, filter={"$and": [{"kind": "pdf"},
                                                     {"page": {"$gte": 2}}]}))
    assert [s.page for s in page2] == [2]


def test_hybrid_finds_the_settings_line_that_the_embedding_ranks_below_prose(kb):
    """'router_port: 8090' is far from the question in embedding space (prose about routers
    and listening comes first) and close in words: hybrid search brings it into the k."""
    coll, embed = kb("settings")
    question = "Which port does the router listen on?"
    plain, _ = retrieve(coll, embed, question, Search(search="similarity", k=2))
    assert not any(s.source.endswith("settings.md") for s in plain)
    fused, _ = retrieve(coll, embed, question, Search(k=2))
    assert any(s.source.endswith("settings.md") for s in fused)
    assert all(0 < s.score <= 1 for s in fused)  # cosine scores, whichever search found it
    only_prose, _ = retrieve(coll, embed, question, Search(k=2, filter={
        "source": {"$ne": next(s.source for s in fused if s.source.endswith("settings.md"))}}))
    assert not any(s.source.endswith("settings.md") for s in only_prose)


def test_the_word_index_follows_a_changed_knowledge_base(kb_settings):
    """The BM25 index is kept per process; an ingest that changes a document gives the
    collection a new revision, so the next query reads the new words."""
    from fleet.rag.lexical import index_of

    settings, folder = kb_settings
    coll = collection(settings, "settings")
    assert index_of(coll).top("zanzibar", 3) == []
    (folder / "network.md").write_text(NETWORK + "\nThe zanzibar relay needs no port.\n")
    ingest(settings, "settings", folder.as_uri(), chunk_size=300, chunk_overlap=30)
    hits = index_of(collection(settings, "settings")).top("zanzibar", 3)
    assert len(hits) == 1
    assert "zanzibar" in collection(settings, "settings").get(ids=[hits[0][0]])["documents"][0]


@pytest.mark.parametrize("search, says", [
    ({"filter": {"colour": "red"}}, "'colour' is not a chunk field"),
    ({"filter": {"page": {"$like": 2}}}, "filter.page takes one operator"),
    ({"filter": {"$and": [{"kind": "pdf"}]}}, "filter.$and takes a list of at least two"),
    ({"filter": {"source": {"$in": []}}}, "filter.source.$in takes a non-empty list"),
    ({"filter": {"kind": "pdf", "page": 1}}, "must be an object with one key"),
    ({"search": "mmr", "k": 5, "fetch_k": 3}, "fetch_k (3) must be at least k (5)"),
])
def test_a_bad_search_says_what_to_change(search, says):
    with pytest.raises(ValidationError) as err:
        Search.model_validate(search)
    assert says in str(err.value)


def test_an_empty_question_is_refused(kb):
    coll, embed = kb("handbook")
    with pytest.raises(InvalidInput, match="empty"):
        retrieve(coll, embed, "   ", Search())
