"""A model version served by Ray Serve (serve_apps.model): predictions, batching, errors."""

import concurrent.futures as cf
import tempfile
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.integration.conftest import ADMIN, READER, train_small

AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def served(client, tmp_path_factory):
    from ray import serve

    from serve_apps.model import ServingOptions, deploy_version

    name = f"served-{uuid.uuid4().hex[:6]}"
    train_small(client, tmp_path_factory.mktemp("serve"), name, rows=3_000)
    client.store.models.move_alias(model=name, alias="champion", version=1, actor="test",
                                   reason="serve test")
    # Fleet's own Serve (started by `fleet up`), as `deploy` uses it
    app = deploy_version(client.settings, name, 1,
                         ServingOptions(max_batch_size=16, log_sample_rate=0))
    port = client.settings.serving.serve_port
    yield name, f"http://127.0.0.1:{port}/models/{name}/v1"
    serve.delete(app)


def local_predictions(client, name, rows):
    from fleet.artifacts import ArtifactStore
    from fleet.flavors.torch import LoadedModel, load_bundle

    version = client.store.models.resolve(f"{name}@champion")
    with tempfile.TemporaryDirectory() as d:
        model = LoadedModel(load_bundle(ArtifactStore(client.settings).get_file(
            version.artifact_uri, Path(d) / "m.pt")))
    x = np.asarray([[r["age"], r["income"]] for r in rows], np.float32)
    return model.predict(x)


def test_predictions_match_the_registered_model(client, served):
    name, url = served
    rows = [{"age": 20 + i, "income": 1000.0 * i} for i in range(25)]
    r = httpx.post(url, json={"instances": rows}, timeout=60, headers=AS_ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == name and body["version"] == 1
    expected = local_predictions(client, name, rows)
    assert [p["prediction"] for p in body["predictions"]] == expected["prediction"].tolist()
    np.testing.assert_allclose([p["probability"] for p in body["predictions"]],
                               expected["probability"], rtol=1e-5)
    described = httpx.get(url, timeout=30, headers=AS_ADMIN).json()
    assert described["features"] == ["age", "income"] and "instances" in str(
        described["schema"])


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows(served):
    _, url = served

    def one(i):
        rows = [{"age": 30 + i % 40, "income": 500.0 * i}] * (1 + i % 3)
        r = httpx.post(url, json={"instances": rows}, timeout=60, headers=AS_ADMIN)
        return i, r.status_code, len(r.json().get("predictions", []))

    with cf.ThreadPoolExecutor(16) as pool:  # bounded: 64 requests, 16 at a time
        results = list(pool.map(one, range(64)))
    assert all(code == 200 for _, code, _ in results)
    assert all(n == 1 + i % 3 for i, _, n in results)  # split back per request


def test_bad_input_is_a_422_naming_the_field(served):
    _, url = served
    r = httpx.post(url, json={"instances": [{"age": 40}]}, timeout=30, headers=AS_ADMIN)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "instances.0.income"
    r = httpx.post(url, json={"instances": [{"age": "old", "income": 1}]}, timeout=30,
                   headers=AS_ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["message"] == "not a number"
    r = httpx.post(url, content=b"not json", timeout=30, headers=AS_ADMIN)
    assert r.status_code == 422 and "instances" in r.json()["detail"]
    r = httpx.post(url, content=b"[" * 1000 + b"]" * 1000, timeout=30,
                   headers=AS_ADMIN)  # was a 500
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    r = httpx.post(url, json={"instances": []}, timeout=30, headers=AS_ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "instances"


def test_a_served_version_counts_its_replica_seconds(client, served, http):
    """The supervisor samples Serve every sweep: the version's replica-seconds grow while
    it runs, in GET /v1/usage and the gateway's counters."""
    from tests.integration.conftest import wait_until

    name, _url = served

    def replica_s() -> float:
        rows = http.get("/v1/usage", params={"since": "1h"}).json()["serving"]
        return next((r["replica_s"] for r in rows if r["model"] == name), 0.0)

    first = wait_until(replica_s, 60, 1)
    assert wait_until(lambda: replica_s() > first, 60, 1)
    assert f'fleet_replica_seconds_total{{model="{name}",resource="replica",version="1"}}' \
        in http.get("/metrics").text


def test_the_versions_own_url_skips_the_router_so_it_needs_a_listed_token(served):
    """serving.endpoint_tokens guards endpoints; a version's own URL on Serve's HTTP would
    go around it, so it is guarded too ('models/*': [admin] in the test installation)."""
    _, url = served
    row = {"instances": [{"age": 40, "income": 1.0}]}
    r = httpx.post(url, json=row, timeout=30)
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["detail"]
    r = httpx.get(url, timeout=30, headers={"Authorization": f"Bearer {READER}"})
    assert r.status_code == 403 and "'reader'" in r.json()["detail"]
    assert httpx.post(url, json=row, timeout=30, headers=AS_ADMIN).status_code == 200
