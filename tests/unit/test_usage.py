"""What invocations cost (issue 13, item 10): each records its function's declared CPUs and
GPUs, and its resource-seconds are those times its run time; summed per function or per
caller over a period, priced when prices are configured; the same over HTTP, in the CLI's
renderer and as Prometheus counters; on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from fleet.config import load_settings
from fleet.errors import InvalidInput
from fleet.gateway import create_app
from fleet.store import Status, Store, open_store
from fleet.usage import usage_report

ADMIN = "admin-token-0123456789"


def run(store, function, caller, *, cpus, gpus, seconds, ago=0.0):
    row = store.invocations.new_row(function=function, payload={}, caller=caller, via="http",
                                    timeout_s=60, retries=0, cpus=cpus, gpus=gpus)
    inv, _ = store.invocations.insert(row)
    end = time.time() - ago
    with store.engines.write.begin() as conn:
        store.invocations.finish_op(inv.id, Status.SUCCEEDED, started_at=end - seconds,
                                    finished_at=end)(conn)
    return store.invocations.get(inv.id)


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text(
        f"tokens: [{{name: admin, token: {ADMIN}, scopes: [admin]}}]\n"
        "usage: {cpu_second: 0.001, gpu_second: 0.1, currency: EUR}\n")
    return load_settings(tmp_path)


def test_resource_seconds_per_function_and_caller_priced(store_url, settings):
    store = Store(store_url)
    try:
        one = run(store, "train", "ann", cpus=2, gpus=1, seconds=10)
        run(store, "train", "bob", cpus=2, gpus=1, seconds=5)
        run(store, "echo", "ann", cpus=0.5, gpus=0, seconds=4)
        run(store, "echo", "ann", cpus=0.5, gpus=0, seconds=100, ago=3 * 86_400)  # older
        assert one.usage == {"cpus": 2, "gpus": 1, "cpu_s": pytest.approx(20),
                             "gpu_s": pytest.approx(10)}
        assert one.public()["usage"]["cpu_s"] == pytest.approx(20)
        by_fn = usage_report(store, settings, by="function", since="1d")
        rows = {r["function"]: r for r in by_fn["rows"]}
        assert rows["train"]["cpu_s"] == pytest.approx(30)
        assert rows["train"]["gpu_s"] == pytest.approx(15)
        assert rows["train"]["cost"] == pytest.approx(30 * 0.001 + 15 * 0.1)
        assert rows["echo"]["invocations"] == 1 and rows["echo"]["cpu_s"] == pytest.approx(2)
        assert by_fn["currency"] == "EUR" and by_fn["total"]["cpu_s"] == pytest.approx(32)
        by_caller = {r["caller"]: r for r in usage_report(store, settings, by="caller",
                                                          since="7d")["rows"]}
        assert by_caller["ann"]["cpu_s"] == pytest.approx(20 + 2 + 50)
        for bad, field in (({"by": "team"}, "by"), ({"since": "soon"}, "since")):
            with pytest.raises(InvalidInput) as err:
                usage_report(store, settings, **bad)
            assert err.value.errors[0].field == field
    finally:
        store.close()


def test_usage_over_http_and_as_prometheus_counters(settings):
    store = open_store(settings.resolved_store_url)
    run(store, "train", "ann", cpus=2, gpus=1, seconds=10)
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        auth = {"Authorization": f"Bearer {ADMIN}"}
        got = http.get("/v1/usage?by=caller&since=1h", headers=auth).json()
        assert got["rows"][0]["caller"] == "ann" and got["rows"][0]["cost"] == pytest.approx(
            20 * 0.001 + 10 * 0.1)
        for query, field in (("by=team", "by"), ("since=0s", "since"),
                             ("since=438487721216590d", "since"), ("since=nand", "since")):
            bad = http.get(f"/v1/usage?{query}", headers=auth)  # the long one was a 500
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == field
        longest = http.get("/v1/usage?by=caller&since=9999999999s", headers=auth)
        assert longest.status_code == 200  # the longest the schema admits is accepted
        assert http.get("/v1/usage").status_code == 401
        metrics = http.get("/metrics").text
        assert 'fleet_invocation_cpu_seconds_total{function="train"} 20.0' in metrics
        assert 'fleet_invocation_gpu_seconds_total{function="train"} 10.0' in metrics


def test_replica_seconds_per_served_version_priced_and_counted(store_url, settings):
    """What a sweep records for each version's running replicas (fleet.runtime.replicas),
    summed per version, by hour for --since, priced, and as a Prometheus counter."""
    store = Store(store_url)
    try:
        now = time.time()
        v1 = {"app": "churn-v1", "model": "churn", "version": 1, "replicas": 2, "cpus": 0.5,
              "gpus": 0.0}
        v2 = {"app": "churn-v2", "model": "churn", "version": 2, "replicas": 1, "cpus": 1.0,
              "gpus": 1.0}
        store.replica_usage.add([v1, v2], 5.0, now)
        store.replica_usage.add([v1], 5.0, now)  # the same hour: one row, added to
        store.replica_usage.add([v1], 100.0, now - 3 * 86_400)  # long ago
        report = usage_report(store, settings, since="1d")
        got = {r["version"]: r for r in report["serving"]}
        assert got[1]["replica_s"] == pytest.approx(20) and got[1]["cpu_s"] == pytest.approx(10)
        assert got[2]["gpu_s"] == pytest.approx(5)
        assert got[2]["cost"] == pytest.approx(5 * 0.001 + 5 * 0.1)
        week = {r["version"]: r for r in usage_report(store, settings, since="7d")["serving"]}
        assert week[1]["replica_s"] == pytest.approx(220)
    finally:
        store.close()


def test_replica_seconds_as_prometheus_counters(settings):
    store = open_store(settings.resolved_store_url)
    store.replica_usage.add([{"app": "churn-v3", "model": "churn", "version": 3,
                              "replicas": 2, "cpus": 0.25, "gpus": 0.0}], 10.0, time.time())
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        metrics = http.get("/metrics").text
    assert ('fleet_replica_seconds_total{model="churn",resource="replica",version="3"} 20.0'
            in metrics)
    assert 'fleet_replica_seconds_total{model="churn",resource="cpu",version="3"} 5.0' in metrics
