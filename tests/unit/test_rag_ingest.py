"""rag ingest against a real embedded Chroma and the packaged all-MiniLM-L6-v2: what a
knowledge base holds after a first ingest, after the same ingest again, and after documents
change or go."""

from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest

from fleet.config import clear_cache, load_settings
from fleet.errors import Conflict
from fleet.rag import collection, ingest
from fleet.rag.chroma import client
from tests.conftest import TMP
from tests.support.chroma import ChromaServer
from tests.support.documents import write_corpus

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def chroma_server():
    server = ChromaServer(TMP / f"chroma-{os.getpid()}")
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def kb(request, tmp_path):
    """Each test twice: Chroma embedded under FLEET_HOME, and a Chroma server on
    127.0.0.1 (emptied first), which a cluster uses."""
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "server":
        configure(home, chroma_url=request.getfixturevalue("chroma_server"))
    clear_cache()
    settings = load_settings(home)
    if request.param == "server":
        for coll in client(settings).list_collections():
            client(settings).delete_collection(coll.name)
    files = write_corpus(tmp_path / "docs")
    source = (tmp_path / "docs").as_uri()
    return settings, files, source


def configure(home, **rag):
    """Write fleet.yaml's rag: section, keeping the Chroma server a test runs against."""
    old = load_settings(home).rag.chroma_url if (home / "fleet.yaml").exists() else None
    if old and "chroma_url" not in rag:
        rag["chroma_url"] = old
    (home / "fleet.yaml").write_text(f"rag: {json.dumps(rag)}\n")
    clear_cache()
    return load_settings(home)


def run(settings, source, name="handbook", **kw):
    events: list[dict] = []
    report = ingest(settings, name, source, chunk_size=kw.get("size", 200),
                    chunk_overlap=kw.get("overlap", 20), progress=lambda **f: events.append(f))
    return report, events


def test_a_first_ingest_reads_every_kind_and_reports_what_it_skipped(kb):
    settings, files, source = kb
    report, events = run(settings, source)
    assert report.files == 5  # the csv is not a document kind; the broken pdf is counted
    assert report.added == 4 and report.replaced == report.unchanged == report.removed == 0
    assert [s["file"] for s in report.skipped] == [files["broken"].as_uri()]
    assert "could not be read" in report.skipped[0]["reason"]
    assert report.chunks_written == report.chunks_total > 4
    assert events[-1] == {"files_total": 5, "files_done": 5,
                          "chunks_written": report.chunks_written}

    got = collection(settings, "handbook").get(include=["metadatas", "documents"])
    by_source = {}
    for meta, text in zip(got["metadatas"], got["documents"], strict=True):
        by_source.setdefault(meta["source"], []).append((meta, text))
    pdf = by_source[files["warranty"].as_uri()]
    assert sorted(m["page"] for m, _ in pdf) == [1, 2]  # a PDF is cited by page
    html = " ".join(t for _, t in by_source[files["support"].as_uri()])
    assert "9:00 to 17:00" in html and "do not index me" not in html and "color" not in html
    assert all(len(t) <= 200 for _, t in sum(by_source.values(), []))


def test_the_same_ingest_again_writes_nothing_and_keeps_the_ids(kb):
    settings, _, source = kb
    first, _ = run(settings, source)
    ids = sorted(collection(settings, "handbook").get()["ids"])
    again, _ = run(settings, source)
    assert (again.added, again.replaced, again.unchanged, again.removed) == (0, 0, 4, 0)
    assert again.chunks_written == 0 and again.chunks_deleted == 0
    assert again.chunks_total == first.chunks_total
    assert sorted(collection(settings, "handbook").get()["ids"]) == ids


def test_a_changed_document_is_replaced_and_a_removed_one_goes(kb):
    settings, files, source = kb
    run(settings, source)
    files["refunds"].write_text("# Refunds\n\nReturns are accepted within 14 days only.\n")
    files["shipping"].unlink()
    report, _ = run(settings, source)
    assert (report.added, report.replaced, report.unchanged, report.removed) == (0, 1, 2, 1)
    coll = collection(settings, "handbook")
    assert coll.get(where={"source": files["shipping"].as_uri()})["ids"] == []
    refunds = coll.get(where={"source": files["refunds"].as_uri()}, include=["documents"])
    assert refunds["documents"] == ["# Refunds\n\nReturns are accepted within 14 days only."]
    assert len(coll.get()["ids"]) == report.chunks_total


def test_two_sources_share_a_knowledge_base_without_deleting_each_other(kb, tmp_path):
    settings, _, source = kb
    other = tmp_path / "faq"
    other.mkdir()
    (other / "faq.md").write_text("# FAQ\n\nWe do not ship to the Moon.\n")
    run(settings, source)
    run(settings, other.as_uri())
    again, _ = run(settings, source)
    assert again.removed == 0
    sources = {m["source"] for m in collection(settings, "handbook").get()["metadatas"]}
    assert (other / "faq.md").as_uri() in sources


def test_a_question_finds_the_chunk_that_answers_it(kb):
    settings, files, source = kb
    run(settings, source)
    hit = collection(settings, "handbook").query(
        query_texts=["how many days do I have to send a product back for my money?"],
        n_results=1, include=["metadatas", "distances"])
    assert hit["metadatas"][0][0]["source"] == files["refunds"].as_uri()
    assert 0 <= hit["distances"][0][0] < 1  # cosine distance, not L2


def test_the_collection_stores_the_models_name_not_its_path(kb):
    """Chroma rebuilds the embedding function from what it stored: a site-packages path
    there would break when the venv moves."""
    settings, _, source = kb
    if settings.rag.chroma_url:
        pytest.skip("reads the embedded Chroma's own file")
    run(settings, source)
    db = sqlite3.connect(settings.chroma_dir / "chroma.sqlite3")
    raw = "".join(db.execute("SELECT config_json_str || schema_str FROM collections "
                             "WHERE name='handbook'").fetchone())
    assert "site-packages" not in raw and str(settings.home) not in raw
    schema = json.loads(db.execute("SELECT schema_str FROM collections WHERE name='handbook'"
                                   ).fetchone()[0])
    vectors = schema["keys"]["#embedding"]["float_list"]["vector_index"]["config"]
    assert vectors["embedding_function"]["name"] == "fleet-sentence-transformers"
    assert vectors["embedding_function"]["config"]["model"] == "all-MiniLM-L6-v2"
    assert vectors["space"] == "cosine"
    # opened without an embedding function, the collection rebuilds it from the config
    coll = client(settings).get_collection("handbook")
    assert coll.query(query_texts=["warranty"], n_results=1)["ids"][0]


def test_another_embedding_model_on_an_existing_base_is_refused_with_the_fix(kb, tmp_path):
    settings, _, source = kb
    run(settings, source)
    changed = configure(settings.home, embedding={"provider": "openai", "model": "other",
                                                  "url": "http://127.0.0.1:9/v1"})
    with pytest.raises(Conflict, match="Ingest into a new knowledge base name"):
        collection(changed, "handbook")


def test_an_empty_file_is_skipped_with_the_reason_and_adds_nothing(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    clear_cache()
    settings = load_settings(home)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "empty.md").write_text("   \n")
    (docs / "blank.html").write_text("<html><body><script>x()</script></body></html>")
    (docs / "ok.txt").write_text("Something worth finding.")
    report, _ = run(settings, docs.as_uri())
    reasons = {s["file"].rsplit("/", 1)[1]: s["reason"] for s in report.skipped}
    assert reasons == {"empty.md": "the file is empty", "blank.html": "the file has no text"}
    assert report.added == 1 and report.chunks_total == 1


@pytest.mark.parametrize("name, content, says", [
    ("empty.md", b"  \n", "the file is empty"),
    ("data.txt", b"text then \x00\x01\x02 binary", "binary data, not text"),
    ("tool.exe", b"MZ\x90\x00", "not a supported type"),
    ("big.md", b"# Big\n" + b"word " * 400, "over the limit of 1,000 (rag.max_file_bytes)"),
])
def test_a_bad_file_named_as_the_source_is_refused_and_the_base_is_untouched(
        kb, tmp_path, name, content, says):
    from fleet.errors import InvalidInput

    settings, _, source = kb
    settings = configure(settings.home, max_file_bytes=1000)
    run(settings, source)
    before = collection(settings, "handbook").get(include=[])["ids"]
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(InvalidInput, match=re.escape(says)) as refused:
        run(settings, bad.as_uri())
    assert [e.field for e in refused.value.errors] == ["source"]
    assert "Nothing was written" in str(refused.value)
    assert sorted(collection(settings, "handbook").get(include=[])["ids"]) == sorted(before)
    with pytest.raises(InvalidInput):  # and no collection is made for a new name
        run(settings, bad.as_uri(), name="fresh-kb")
    assert "fresh-kb" not in [c.name for c in client(settings).list_collections()]

    (tmp_path / "docs" / name).write_bytes(content)  # in a folder: skipped, with the reason
    report, _ = run(settings, source)
    reasons = [s["reason"] for s in report.skipped if s["file"].endswith("/" + name)]
    if name.endswith(".exe"):  # a folder's unsupported files are not documents: not listed
        assert reasons == []
    else:
        assert len(reasons) == 1 and says in reasons[0]
    assert report.unchanged == 4 and report.chunks_written == 0


def test_a_link_swapped_in_after_the_check_is_skipped_not_read(tmp_path):
    """A request's folder is checked when it is validated; a link planted after that is
    caught when the file is opened (the leak of issue 26: the admin token in snippets)."""
    from fleet.artifacts import data_access

    home = tmp_path / "home"
    home.mkdir()
    (home / "fleet.yaml").write_text(
        "tokens:\n  - {name: admin, token: secret-admin-token-0123, scopes: [admin]}\n"
        f"data_roots: ['{tmp_path / 'docs'}']\n")
    clear_cache()
    settings = load_settings(home)
    files = write_corpus(tmp_path / "docs")
    source = (tmp_path / "docs").as_uri()
    access = data_access(settings)
    access.check(source, field="source")  # what validation did
    (tmp_path / "docs" / "zz-planted.md").symlink_to(home / "fleet.yaml")
    report = ingest(settings, "guarded", source, chunk_size=400, chunk_overlap=0,
                    access=access)
    planted = [s for s in report.skipped if s["file"].endswith("/zz-planted.md")]
    assert len(planted) == 1 and "outside the data roots" in planted[0]["reason"]
    assert report.added == report.files - len(report.skipped) and report.added >= len(files) - 2
    held = collection(settings, "guarded").get(include=["documents"])["documents"]
    assert held and not any("secret-admin-token" in d for d in held)
