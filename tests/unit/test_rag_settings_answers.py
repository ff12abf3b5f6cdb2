"""Questions whose answer is one line of a settings reference ("Which embedding model ... by
default?"), asked of a knowledge base where a table of packages and prose mention the same
words more often and nearer in embedding space. The extractive answer must be the setting's
line, from the reference (issue 27: these were most of the misses on Fleet's own docs)."""

from __future__ import annotations

import pytest

from fleet.config import clear_cache, load_settings
from fleet.rag import answer, build_chain, existing, ingest
from fleet.rag.embeddings import embedding_function
from fleet.rag.retrieval import Search

pytestmark = pytest.mark.filterwarnings("ignore")

ROWS = [  # one table row each, as a package table writes them: long, and full of the words
    ("`platform.rag`", "knowledge bases: documents from a folder or S3 prefix (`documents`), "
     "chunks (`splitting`), embedding functions Chroma can rebuild by model name "
     "(`embeddings`), the Chroma client (`chroma`), the idempotent sync (`knowledge`)"),
    ("`platform.llm`", "language models behind one interface (`backends`: `local`, "
     "`openai`); the local CPU model from a package, converted from GGUF once (`local`); a "
     "LangChain chat model over any backend (`chat_model`)"),
    ("`platform.scheduler`", "schedule slots (pure); the tick logic, the actor; "
     "`parse_schedule`"),
]
PACKAGES = ("# Packages\n\n| package | what it holds |\n|---|---|\n"
            + "".join(f"| {name} | {what} |\n" for name, what in ROWS))

OVERVIEW = """# Knowledge bases

A knowledge base keeps documents as chunks with their vectors, and a question finds the
chunks nearest to it. Changing how chunks are embedded means ingesting every knowledge
base again. The RAG app asks the LLM app for its answers over an OpenAI-compatible API.
"""

REFERENCE = """# Settings reference

```yaml
server: {host: 127.0.0.1, port: 8080, max_body_bytes: 1048576, default_wait_s: 30}
scheduler: {tick_s: 1.0, max_catchup: 3}
cluster: {num_cpus: null, gcs_port: 6380, dashboard_port: 8265, token_auth: true}
artifacts:
  root: ""                    # default file://$HOME/artifacts; or s3://bucket/prefix
  s3_endpoint_url: null       # any S3-compatible store
rag:
  chroma_url: null            # null: embedded Chroma
  chunk_size: 1000            # characters per chunk
  chunk_overlap: 150
  relevance_threshold: 0.3    # below this: not in the knowledge base
  embedding:
    provider: sentence-transformers   # or openai
    model: all-MiniLM-L6-v2   # ships in a package: no network
    batch_size: 64
llm:
  backend: local              # local, openai or vllm
  model: SmolLM2-135M-Instruct   # local: from a package that carries its weights
  max_tokens: 256
  request_timeout_s: 300
```
"""


@pytest.fixture(scope="module")
def ask(tmp_path_factory):
    root = tmp_path_factory.mktemp("rag-settings")
    (root / "home").mkdir()
    (root / "docs").mkdir()
    for name, text in (("packages.md", PACKAGES), ("overview.md", OVERVIEW),
                       ("reference.md", REFERENCE)):
        (root / "docs" / name).write_text(text)
    clear_cache()
    settings = load_settings(root / "home")
    ingest(settings, "ref", (root / "docs").as_uri(), chunk_size=1000, chunk_overlap=150)
    chain = build_chain(existing(settings, "ref"), embedding_function(settings.rag.embedding),
                        None, Search(k=2), threshold=0.3, extractive=True)
    return lambda question: answer(chain, None, question, 0.3, "extractive")


@pytest.mark.parametrize("question, value", [
    ("Which embedding model does the platform use by default for knowledge bases?",
     "all-MiniLM-L6-v2"),
    ("Which local language model does the LLM app run by default?", "SmolLM2-135M-Instruct"),
])
def test_the_settings_line_answers_a_which_default_question(ask, question, value):
    got = ask(question)
    assert got.in_knowledge_base and value in got.answer, got.answer
    assert got.sources[0]["source"].endswith("reference.md"), got.sources[0]["source"]


def test_a_prose_label_gets_no_settings_bonus():
    """'Term: prose' is a sentence with a label, not a setting: only a lower-case key path
    ('rag.embedding.model: ...') counts as the line that states a value."""
    from fleet.rag.extractive import _keyed

    asked = {"opentelemetry", "otel", "exporter", "variable"}
    assert _keyed("OpenTelemetry: use the native traces.", asked) == 0.0
    assert _keyed("otel.exporter: otlp", asked) == 1.0
    assert _keyed("rag.embedding.model: all-MiniLM-L6-v2", {"embedding", "model"}) == 1.0
    assert _keyed("rag.embedding.provider: openai", {"embedding", "model"}) == 0.5
