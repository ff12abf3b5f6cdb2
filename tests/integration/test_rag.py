"""rag_ingest through the live gateway, from an S3 prefix on SeaweedFS into the embedded
Chroma of the suite's installation, with the packaged embedding model."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import DATA_BUCKET, DEPLOYER
from tests.support.documents import write_corpus


@pytest.fixture(scope="module")
def corpus_prefix(client, data_bucket, tmp_path_factory):
    from fleet.artifacts import ArtifactStore

    folder = tmp_path_factory.mktemp("rag-docs")
    files = write_corpus(folder)
    store = ArtifactStore(client.settings)
    prefix = f"s3://{DATA_BUCKET}/rag-{uuid.uuid4().hex[:6]}"
    for path in files.values():
        store.put_file(path, f"{prefix}/{path.relative_to(folder)}")
    return prefix


def ingest(http, body: dict) -> httpx.Response:
    return http.post("/v1/functions/rag_ingest/invoke", params={"wait": 300}, json=body)


def test_ingest_from_s3_then_again_changes_nothing(http, client, corpus_prefix):
    kb = f"kb-{uuid.uuid4().hex[:6]}"
    r = ingest(http, {"knowledge_base": kb, "source": corpus_prefix, "chunk_size": 300})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["status"] == "succeeded", first
    result = first["result"]
    assert (result["files"], result["added"], result["removed"]) == (5, 4, 0)
    assert [s["file"] for s in result["skipped"]] == [f"{corpus_prefix}/broken.pdf"]
    assert result["chunks_total"] == result["chunks_written"] > 4
    progress = client.get(first["id"]).progress
    assert progress["files_done"] == progress["files_total"] == 5

    again = ingest(http, {"knowledge_base": kb, "source": corpus_prefix, "chunk_size": 300})
    result2 = again.json()["result"]
    assert (result2["unchanged"], result2["chunks_written"], result2["chunks_deleted"]) == \
        (4, 0, 0)
    assert result2["chunks_total"] == result["chunks_total"]


def test_a_query_answers_with_its_sources_or_says_it_is_not_there(http, corpus_prefix):
    kb = f"kb-{uuid.uuid4().hex[:6]}"
    assert ingest(http, {"knowledge_base": kb, "source": corpus_prefix}).status_code == 200

    def query(question: str, **extra) -> dict:
        r = http.post("/v1/functions/rag_query/invoke", params={"wait": 300},
                      json={"knowledge_base": kb, "question": question, **extra})
        assert r.status_code == 200, r.text
        return r.json()

    found = query("Within how many days can I return an item for a refund?",
                  search={"search": "mmr", "k": 2, "fetch_k": 6}, max_tokens=32,
                  answer="generate")
    assert found["status"] == "succeeded", found
    res = found["result"]
    assert res["in_knowledge_base"] and res["answer"] and res["model"]
    assert res["sources"][0]["source"] == f"{corpus_prefix}/refunds.md"
    assert set(res["latency_ms"]) == {"embed_ms", "retrieve_ms", "generate_ms", "total_ms"}
    assert res["usage"]["completion_tokens"] > 0

    cited = query("Within how many days can I return an item for a refund?")["result"]
    assert "30 days" in cited["answer"] and "[1]" in cited["answer"]  # extractive, default
    assert cited["usage"] == {} and cited["model"].startswith("extractive")

    elsewhere = query("What is the boiling point of liquid nitrogen?")["result"]
    assert not elsewhere["in_knowledge_base"] and elsewhere["usage"] == {}
    assert elsewhere["answer"].startswith("Not in the knowledge base")

    missing = http.post("/v1/functions/rag_query/invoke", params={"wait": 120},
                        json={"knowledge_base": "never-ingested", "question": "hi"}).json()
    assert missing["status"] == "failed"
    assert "rag_ingest" in missing["error"]["message"]


@pytest.mark.parametrize("body, field, status", [
    ({"knowledge_base": "x", "source": "s3://fleet-it-data/a"}, "knowledge_base", 422),
    ({"knowledge_base": "Bad Name!", "source": "s3://fleet-it-data/a"}, "knowledge_base", 422),
    ({"knowledge_base": "kb-ok", "source": "/etc"}, "source", 403),
    ({"knowledge_base": "kb-ok", "source": "s3://someone-elses-bucket/docs"}, "source", 403),
    ({"knowledge_base": "kb-ok", "source": "s3://fleet-it-data/a", "chunk_size": 100,
      "chunk_overlap": 100}, "body", 422),
])
def test_bad_input_names_its_field_and_runs_nothing(gateway_url, client, body, field, status):
    refused(gateway_url, client, "rag_ingest", body, field, status)


@pytest.mark.parametrize("body, field", [
    ({"knowledge_base": "kb-ok", "question": ""}, "question"),
    ({"knowledge_base": "kb-ok", "question": "q", "search": {"filter": {"colour": "red"}}},
     "search"),
    ({"knowledge_base": "kb-ok", "question": "q", "search": {"k": 0}}, "search.k"),
    ({"knowledge_base": "kb-ok", "question": "q", "relevance_threshold": 2},
     "relevance_threshold"),
])
def test_a_bad_query_names_its_field_and_runs_nothing(gateway_url, client, body, field):
    refused(gateway_url, client, "rag_query", body, field, 422)


def refused(gateway_url, client, function: str, body: dict, field: str, status: int) -> None:
    before = {i.id for i in client.store.invocations.list(function=function, limit=500)}
    with httpx.Client(base_url=gateway_url, timeout=60,
                      headers={"Authorization": f"Bearer {DEPLOYER}"}) as weakest:
        r = weakest.post(f"/v1/functions/{function}/invoke", json=body)
    assert r.status_code == status, r.text
    errors = r.json().get("errors", [])
    assert any(e["field"].startswith(field) for e in errors) or field in r.json()["detail"], \
        r.text
    after = {i.id for i in client.store.invocations.list(function=function, limit=500)}
    assert after == before
