"""The router facing callers (issue 9, item 4), as an ASGI app over a real store; only the
Serve handle of a model version is a stand-in (no Ray here)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from fleet.config import load_settings
from fleet.serving.router import Router
from fleet.serving.routing import Arm, bandit
from fleet.store import Store, token_hash

BOB, DEE = "bob-token-0123456789abcdef", "dee-token-0123456789abcdef"


class Version:
    """A model version's Serve handle: `predict.remote(body, request_id)` answers; calls
    and the request ids it was given are recorded."""

    def __init__(self) -> None:
        self.predict, self.calls, self.ids = self, 0, []

    def remote(self, body: bytes, request_id: str | None = None):
        self.calls += 1
        self.ids.append(request_id)

        async def answer():
            return 200, {"predictions": [{"prediction": 1}]}

        return answer()


def settings_for(tmp_path, extra: str = ""):
    (tmp_path / "fleet.yaml").write_text(
        "tokens:\n"
        f"  - {{name: bob, token_sha256: {token_hash(BOB)}, scopes: [invoke]}}\n"
        f"  - {{name: dee, token_sha256: {token_hash(DEE)}, scopes: [invoke]}}\n"
        "serving: {max_body_bytes: 2048, feedback_ttl_s: 60" + extra + "}\n")
    return load_settings(tmp_path)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    base = Arm(model="m", version=1, app="m-v1")
    cand = Arm(model="m", version=2, app="m-v2")
    for name in ("web", "other"):
        s.endpoints.set_routing(name, bandit(base, cand).dump(), actor="ann", reason="t")
    s.endpoints.set_routing("plain", {"versions": [base.model_dump() | {"weight": 1.0}]},
                            actor="ann", reason="t")
    yield s
    s.close()


async def router_for(settings, store, version=None):
    version = version or Version()
    r = Router(settings, store, handle_for=lambda app: version)
    await r.refresh()
    return r, version


def call(router, method, path, **kw):
    async def go():
        transport = httpx.ASGITransport(app=router)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as c:
            return await c.request(method, path, **kw)

    return go()


def test_an_oversized_body_is_413_and_never_reaches_a_model(tmp_path, store):
    async def go():
        router, version = await router_for(settings_for(tmp_path), store)
        r = await call(router, "POST", "/endpoints/web", content=b"x" * 5000)
        assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"]
        assert r.headers["content-type"] == "application/problem+json"
        assert version.calls == 0
        ok = await call(router, "POST", "/endpoints/web", json={"instances": [{"a": 1}]})
        assert ok.status_code == 200 and version.calls == 1

    asyncio.run(go())


def test_feedback_is_once_per_answer_and_unknown_or_old_ids_are_404_and_410(tmp_path, store):
    async def go():
        router, _ = await router_for(settings_for(tmp_path), store)
        r = await call(router, "POST", "/endpoints/web", json={"instances": [{"a": 1}]})
        rid, version = r.headers["x-fleet-request-id"], r.headers["x-fleet-version"]
        fb = await call(router, "POST", "/endpoints/web/feedback",
                        json={"request_id": rid, "reward": 1})
        assert fb.status_code == 200 and fb.json()["version"] == version
        again = await call(router, "POST", "/endpoints/web/feedback",
                           json={"request_id": rid, "reward": 1})
        assert again.status_code == 409 and "rewarded once" in again.json()["detail"]
        for bad in ("nope", rid[:-1] + ("0" if rid[-1] != "0" else "1")):
            r = await call(router, "POST", "/endpoints/web/feedback",
                           json={"request_id": bad, "reward": 1})
            assert r.status_code == 404, r.text
        elsewhere = await call(router, "POST", "/endpoints/other/feedback",
                               json={"request_id": rid, "reward": 1})
        assert elsewhere.status_code == 404
        old = router.sign("web", version, issued=time.time() - 61)
        r = await call(router, "POST", "/endpoints/web/feedback",
                       json={"request_id": old, "reward": 0})
        assert r.status_code == 410 and "feedback_ttl_s" in r.json()["detail"]
        assert store.endpoints.arms("web")["web"][version]["pulls"] == 1

    asyncio.run(go())


def test_bandit_state_and_issued_ids_survive_a_router_restart(tmp_path, store):
    settings = settings_for(tmp_path)

    async def go():
        first, _ = await router_for(settings, store)
        answers = [await call(first, "POST", "/endpoints/web", json={"instances": []})
                   for _ in range(3)]
        await call(first, "POST", "/endpoints/web/feedback",
                   json={"request_id": answers[0].headers["x-fleet-request-id"], "reward": 1})
        second, _ = await router_for(settings, store)  # a restarted (or another) router
        for a in answers[1:]:
            r = await call(second, "POST", "/endpoints/web/feedback",
                           json={"request_id": a.headers["x-fleet-request-id"], "reward": 1})
            assert r.status_code == 200, r.text
        await second.refresh()
        arms = (await call(second, "GET", "/endpoints/web")).json()["arms"]
        assert sum(a["pulls"] for a in arms.values()) == 3

    asyncio.run(go())


def test_endpoint_tokens_are_off_by_default_and_per_endpoint_when_set(tmp_path, store):
    async def go():
        open_router, _ = await router_for(settings_for(tmp_path), store)
        assert (await call(open_router, "POST", "/endpoints/web", json={})).status_code == 200
        (tmp_path / "t2").mkdir()
        guarded, _ = await router_for(settings_for(tmp_path / "t2",
                                                   ", endpoint_tokens: {web: [bob]}"), store)
        r = await call(guarded, "POST", "/endpoints/web", json={})
        assert r.status_code == 401 and "bob" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
        r = await call(guarded, "POST", "/endpoints/web", json={},
                       headers={"Authorization": f"Bearer {DEE}"})
        assert r.status_code == 403
        r = await call(guarded, "POST", "/endpoints/web", json={},
                       headers={"Authorization": f"Bearer {BOB}"})
        assert r.status_code == 200
        assert (await call(guarded, "POST", "/endpoints/other", json={})).status_code == 200

    asyncio.run(go())


def test_labels_are_stored_once_per_instance_and_bad_ones_are_named(tmp_path, store):
    async def go():
        router, version = await router_for(settings_for(tmp_path), store)
        r = await call(router, "POST", "/endpoints/plain", json={"instances": [{"a": 1}] * 3})
        rid = r.headers["x-fleet-request-id"]
        assert version.ids == [rid]  # the replica logs its predictions under this id
        fb = "/endpoints/plain/feedback"
        reward = await call(router, "POST", fb, json={"request_id": rid, "reward": 1})
        assert reward.status_code == 422 and "not chosen by a bandit" in reward.json()["detail"]
        for bad in ({"request_id": rid, "labels": []}, {"request_id": rid, "labels": "yes"},
                    {"request_id": rid, "labels": [{"nested": 1}]},
                    {"request_id": rid, "label": 1, "labels": [1]},
                    {"request_id": rid, "labels": [None, None]}):
            r = await call(router, "POST", fb, json=bad)
            assert r.status_code == 422 and "labels must be a list" in r.json()["detail"], bad
        ok = await call(router, "POST", fb, json={"request_id": rid, "labels": [1, None, "x"]})
        assert ok.status_code == 200 and ok.json() == {
            "request_id": rid, "version": "m:1", "labelled": 2}
        again = await call(router, "POST", fb, json={"request_id": rid, "label": 0})
        assert again.status_code == 409 and "labelled once" in again.json()["detail"]
        got = store.labels.window("plain", ["m:1"], time.time() - 60, time.time() + 1)
        assert sorted(got) == [(rid, 0, 1), (rid, 2, "x")]
        assert store.labels.window("plain", ["m:2"], 0, time.time() + 1) == []
        elsewhere = await call(router, "POST", "/endpoints/web/feedback",
                               json={"request_id": rid, "label": 1})
        assert elsewhere.status_code == 404

    asyncio.run(go())


def test_a_hostile_body_is_the_callers_fault_never_a_versions(tmp_path, store):
    """Issue 26, finding 5: eight requests of nested lists forced onto a candidate got 503,
    counted as its errors, and rolled the canary back. Deep JSON is now a 422 here, before
    any version sees it, and counts against none; the same for feedback (was a 500)."""
    async def go():
        router, version = await router_for(settings_for(tmp_path), store)
        deep = b"[" * 1000 + b"]" * 1000  # under the size limit, 1,000 deep
        for path, says in (("/endpoints/web", "nests arrays and objects"),
                           ("/endpoints/web/feedback", "Feedback must be JSON")):
            r = await call(router, "POST", path, content=deep,
                           headers={"x-fleet-version": "m:2"})  # the candidate
            assert r.status_code == 422, (path, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert says in r.json()["detail"]
            assert "[[[" not in r.text  # the body is never echoed
        assert version.calls == 0
        assert "fleet_router_requests_total{" not in router.metrics.render().decode()

    asyncio.run(go())


def test_an_endpoint_deployed_since_the_last_refresh_is_found_not_404(tmp_path, store):
    """Router instances share the port: `deploy` waits until one of them serves the new
    table, and the next request may reach another that has not refreshed yet. An unknown
    endpoint makes the instance read the store once before it answers 404 (at most every
    MISS_REFRESH_S, so a stream of unknown names is not a read each)."""
    from fleet.serving.router import MISS_REFRESH_S

    async def go():
        router, version = await router_for(settings_for(tmp_path), store)  # not started:
        # no periodic refresh; only a miss reads the store
        store.endpoints.set_routing("fresh", {"versions": [
            {"model": "m", "version": 1, "app": "m-v1", "weight": 1.0}]}, actor="ann",
            reason="deploy")
        await asyncio.sleep(MISS_REFRESH_S)
        r = await call(router, "POST", "/endpoints/fresh", json={"instances": [{"a": 1}]})
        assert r.status_code == 200, r.text
        assert (await call(router, "GET", "/endpoints/fresh")).json()["generation"] == 1
        reads, started = {router.refreshed_at}, time.monotonic()
        for _ in range(20):
            assert (await call(router, "POST", "/endpoints/nope", json={})).status_code == 404
            reads.add(router.refreshed_at)
        allowed = 2 + (time.monotonic() - started) / MISS_REFRESH_S
        assert len(reads) <= allowed  # not one read per unknown name

    asyncio.run(go())
