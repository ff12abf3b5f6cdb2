"""A RAG query end to end in one process: the LCEL chain over a real embedded Chroma, the
packaged embedding model and the local SmolLM2 model."""

from __future__ import annotations

import pytest

from fleet.config import clear_cache, load_settings
from fleet.errors import NotFound
from fleet.llm.backends import backend_for
from fleet.llm.chat_model import FleetChatModel
from fleet.rag import answer, build_chain, existing, ingest
from fleet.rag.embeddings import embedding_function
from fleet.rag.retrieval import Search
from tests.conftest import TMP
from tests.support.documents import write_corpus

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    root = tmp_path_factory.mktemp("rag-query")
    (root / "home").mkdir()
    (root / "home" / "fleet.yaml").write_text(f"llm: {{cache_dir: '{TMP / 'models'}'}}\n")
    clear_cache()
    settings = load_settings(root / "home")
    write_corpus(root / "docs")
    ingest(settings, "handbook", (root / "docs").as_uri(), chunk_size=300, chunk_overlap=30)
    model = FleetChatModel(backend=backend_for(settings), max_tokens=40)
    chain = build_chain(existing(settings, "handbook"), embedding_function(
        settings.rag.embedding), model, Search(k=2), threshold=0.3)
    return settings, chain, model


def test_a_question_the_base_can_answer_is_answered_from_its_sources(rag):
    _, chain, model = rag
    got = answer(chain, model, "Within how many days can I return an item for a refund?", 0.3)
    assert got.in_knowledge_base and got.answer
    assert got.sources[0]["source"].endswith("refunds.md") and got.sources[0]["score"] >= 0.3
    assert "30 days" in got.sources[0]["snippet"]
    assert 0 < got.usage["completion_tokens"] <= 40
    ms = got.latency_ms
    assert ms["embed_ms"] > 0 and ms["retrieve_ms"] > 0 and ms["generate_ms"] > 0
    assert ms["total_ms"] >= ms["embed_ms"] + ms["retrieve_ms"]


def test_a_question_from_elsewhere_is_not_in_the_base_and_calls_no_model(rag):
    _, chain, model = rag
    got = answer(chain, model, "What is the boiling point of liquid nitrogen?", 0.3)
    assert not got.in_knowledge_base
    assert got.answer.startswith("Not in the knowledge base")
    assert got.sources == [] and got.usage == {} and got.latency_ms["generate_ms"] == 0.0


def test_the_chain_streams_the_answer(rag):
    _, chain, _ = rag
    pieces = [c["answer"] for c in chain.stream("How long does standard shipping take?")
              if "answer" in c]
    assert len(pieces) >= 3 and "".join(pieces).strip()


def test_a_missing_knowledge_base_is_named(rag):
    settings, _, _ = rag
    with pytest.raises(NotFound, match="Knowledge base 'nothing-here' does not exist"):
        existing(settings, "nothing-here")


def test_an_emptied_knowledge_base_is_a_clear_not_found(rag, tmp_path):
    """Its documents all removed, a knowledge base has nothing to answer from: a 404 that
    says to ingest, not the 500 a query of an empty collection gave."""
    settings, _, _ = rag
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "note.md").write_text("# Note\n\nThe office opens at nine.\n")
    ingest(settings, "emptied", (tmp_path / "docs").as_uri(), chunk_size=300,
           chunk_overlap=30)
    (tmp_path / "docs" / "note.md").unlink()
    ingest(settings, "emptied", (tmp_path / "docs").as_uri(), chunk_size=300,
           chunk_overlap=30)
    with pytest.raises(NotFound, match="'emptied' has no documents yet"):
        existing(settings, "emptied")


def test_an_extractive_answer_is_the_sources_own_sentence_with_its_citation(rag):
    """rag.answer extractive: the sentence that answers, cited [n], and no model called."""
    settings, _, _ = rag
    chain = build_chain(existing(settings, "handbook"), embedding_function(
        settings.rag.embedding), None, Search(k=2), threshold=0.3, extractive=True)
    got = answer(chain, None, "Within how many days can I return an item for a refund?", 0.3,
                 "extractive")
    assert got.in_knowledge_base and "30 days" in got.answer and "[1]" in got.answer
    assert got.usage == {} and got.model == "extractive"
    assert got.latency_ms["generate_ms"] < 2000  # sentences embedded, no tokens generated


def test_sentences_undo_markdown_wrapping_and_keep_settings_whole():
    from fleet.rag.extractive import sentences

    text = ("Operating Fleet > FLEET_HOME\n\nEverything lives under `FLEET_HOME` (default\n"
            "`~/.fleet`): the store `fleet.db` and `run/cluster.json`. Then more.\n\n"
            "  router_port: 8090   # the router: each endpoint\n"
            "                      # at /endpoints/NAME\n- a list item that wraps\n  on.\n")
    assert sentences(text) == [
        "Everything lives under `FLEET_HOME` (default `~/.fleet`): the store `fleet.db` and "
        "`run/cluster.json`.",
        "router_port: 8090 # the router: each endpoint at /endpoints/NAME",
        "a list item that wraps on."]


def test_sentences_give_a_setting_its_parents_and_an_announcement_its_code():
    from fleet.rag.extractive import sentences

    text = ("## Running it\n\nRun the server with reload:\n\n```bash\nfleet dev\n```\n\n"
            "```yaml\nllm:             # the LLM app\n  model: SmolLM2   # from a package\n"
            "  cache:\n    dir: /tmp/models\nrag:\n  chunk_size: 1000\n```\n")
    assert sentences(text) == [
        "Run the server with reload: fleet dev",
        "llm: # the LLM app",
        "llm.model: SmolLM2 # from a package",
        "llm.cache.dir: /tmp/models",
        "rag.chunk_size: 1000"]
    row = ("| `fleet doctor` | what a first run needs, each with its fix. `make demo` runs it "
           "first and stops with its advice |\n")
    assert sentences(row) == ["`fleet doctor`; what a first run needs, each with its fix.",
                              "`fleet doctor`; `make demo` runs it first and stops with its "
                              "advice"]


def test_the_line_that_answers_is_found_and_its_passage_comes_first(tmp_path):
    """Every whole passage scores below the relevance threshold for a short question; the
    one line that answers it does not. The answer is that line, from the passage shown
    first. Before sentences were weighed, this answered 'Not in the knowledge base'."""
    from tests.support.documents import write_settings_corpus

    (tmp_path / "home").mkdir()
    clear_cache()
    settings = load_settings(tmp_path / "home")
    write_settings_corpus(tmp_path / "docs")
    ingest(settings, "ops", (tmp_path / "docs").as_uri(), chunk_size=300, chunk_overlap=30)
    embed = embedding_function(settings.rag.embedding)
    question = "Which header pins a request to one version?"
    similarity = build_chain(existing(settings, "ops"), embed, None,
                             Search(search="similarity", k=2), 0.3, extractive=True)
    got = answer(similarity, None, question, 0.3, "extractive")
    assert max(s["score"] for s in got.sources) < 0.3  # no passage reaches the threshold
    assert got.in_knowledge_base and "serving.version_header: x-fleet-version [1]" in got.answer
    assert got.sources[0]["source"].endswith("settings.md")
    hybrid = build_chain(existing(settings, "ops"), embed, None, Search(k=2), 0.3,
                         extractive=True)
    port = answer(hybrid, None, "Which port does the router listen on?", 0.3, "extractive")
    assert port.answer.startswith("serving.router_port: 8090")
    assert port.sources[0]["source"].endswith("settings.md")
    far = answer(hybrid, None, "What is the boiling point of liquid nitrogen?", 0.3, "x")
    assert not far.in_knowledge_base and far.sources == []
