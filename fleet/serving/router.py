"""The router: the HTTP server in front of every endpoint's versions.

    POST /endpoints/NAME            predict (the body goes to the chosen version as is)
    GET  /endpoints/NAME            the routing table, generation and bandit arms
    POST /endpoints/NAME/feedback   {"request_id": ..., "reward": 0..1} for the bandit,
                                    and/or {"request_id": ..., "labels": [...]} (or
                                    "label": x) the ground truth, one per instance
    GET  /metrics  GET /healthz

Facing callers: bodies over `serving.max_body_bytes` get a 413 before they are read;
`serving.endpoint_tokens` makes chosen endpoints (or all) need a bearer token of a Fleet
identity (off by default, for in-cluster callers). A bandit answer's request id is signed
with a key kept in the store (it names the endpoint, the version, when it was issued and
whether a bandit chose it), so feedback needs no memory of issued ids and survives a router
restart, on any router: an id from elsewhere is a 404, an old one a 410, a second reward or
label for one answer a 409. The id goes to the replica with the request, which logs it with
each sampled prediction: drift checks join labels to predictions by it (fleet.drift).

Why not a Serve deployment: a router deployment in front of the version apps would put a
second Serve hop (proxy -> router replica -> model replica) on every request, about 10 ms
here. This server is itself the HTTP entry, so a request goes router -> model replica, the
same number of hops as Serve's proxy -> model replica, while each version keeps its own
replicas and failures. See docs/architecture.md and bench/router.

`serving.routers` instances (2 by default) listen on the one router port with SO_REUSEPORT,
so no single actor's death refuses a connection: the kernel gives new connections to the
live ones while Ray restarts the dead one, and only the requests it held fail. They share
nothing in memory; tables, arms and the signing key all come from the store.

The routing tables come from the store, refreshed every `serving.refresh_s`: a rollout
changes traffic by writing a table, and no replica restarts. Everything a caller sees on a
failure is a problem document with a reference; the detail goes to the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

from fleet import messages
from fleet.config import Settings
from fleet.errors import Conflict, FleetError, problem_body
from fleet.http_edge import MAX_JSON_DEPTH, json_too_deep, read_body, send_whole
from fleet.identity import bearer, check_endpoint_caller
from fleet.serving.feedback import parse_feedback
from fleet.serving.metrics import RouterMetrics, merge
from fleet.serving.routing import ArmStats, RoutingTable, choose
from fleet.serving.signing import RequestIds

log = logging.getLogger("fleet.router")
JSON = [(b"content-type", b"application/json")]
PROBLEM = [(b"content-type", b"application/problem+json")]
MISS_REFRESH_S = 0.05  # how often an unknown endpoint may make an instance read the store


def _problem(status: int, title: str, detail: str) -> tuple[int, bytes, list]:
    code = title.lower().replace(" ", "-")
    return status, json.dumps(problem_body(status, code, title, detail)).encode(), PROBLEM


def agree(a: list, b: list) -> bool:
    """Two answers agree when every row's prediction matches (numbers within 1e-6)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        px = x.get("prediction") if isinstance(x, dict) else x
        py = y.get("prediction") if isinstance(y, dict) else y
        if isinstance(px, float) or isinstance(py, float):
            if px is None or py is None or abs(float(px) - float(py)) > 1e-6 * max(
                    1.0, abs(float(px))):
                return False
        elif px != py:
            return False
    return True


class Router:
    """An ASGI app; `start()` runs its table refresh on the current loop."""

    def __init__(self, settings: Settings, store, handle_for=None, peers=None) -> None:
        """`peers`: an async callable that calls a RouterActor method on the other live
        instances and gives their answers: "counters" for a /metrics that sums them all
        (fleet.serving.metrics.merge), "serving" for /healthz's count. None when alone."""
        self.settings = settings
        self._peers = peers
        self.cfg = settings.serving
        self.store = store
        self.metrics = RouterMetrics()
        self.tables: dict[str, tuple[int, RoutingTable]] = {}
        self.stats: dict[str, dict[str, ArmStats]] = {}
        self.handles: dict[str, object] = {}
        self.ids = RequestIds(store)  # signed request ids (fleet.serving.signing)
        self._identities = None
        if self.cfg.endpoint_tokens:
            from fleet.identity import Identities

            self._identities = Identities(settings, store)
            self._identities.start_refresh()
        self._handle_for = handle_for or _serve_handle
        self._background: set[asyncio.Task] = set()
        self._vh = self.cfg.version_header.lower().encode()
        self._sh = self.cfg.sticky_header.lower().encode()
        self.refreshed_at = 0.0

    # -- the table cache ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh()
        self._spawn(self._refresh_forever())

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.refresh_s)
            try:
                await self.refresh()
            except Exception:
                log.exception("routing refresh failed; serving the last tables")

    async def refresh(self) -> None:
        tables, arms = await asyncio.to_thread(self._read)
        parsed = {}
        for name, (gen, raw) in tables.items():
            old = self.tables.get(name)
            parsed[name] = old if old and old[0] == gen else (gen, RoutingTable.model_validate(raw))
        wanted = set().union(*(t.apps for _, t in parsed.values())) if parsed else set()
        for app in wanted - self.handles.keys():
            try:  # get handles before the table that needs them goes live
                self.handles[app] = await asyncio.to_thread(self._handle_for, app)
            except Exception:
                log.warning("no Serve app '%s' yet; its endpoint keeps the last table", app)
                for name, (_gen, t) in list(parsed.items()):
                    if app in t.apps and name in self.tables:  # else: 503 until it runs
                        parsed[name] = self.tables[name]
        self.tables = parsed
        self.stats = {e: {v: ArmStats(**s) for v, s in a.items()} for e, a in arms.items()}
        for app in set(self.handles) - wanted - set().union(
                *(t.apps for _, t in self.tables.values())):
            self.handles.pop(app, None)
        self.refreshed_at = time.time()

    def _read(self):
        return self.store.endpoints.tables(), self.store.endpoints.arms()

    async def _entry(self, endpoint: str):
        """The endpoint's (generation, table). An endpoint this instance does not know may be
        younger than its last read (a deploy that another instance has already seen: the
        instances share the port): it reads the store again first, at most once per
        MISS_REFRESH_S, so unknown names cannot turn into a read each."""
        entry = self.tables.get(endpoint)
        if entry is None and time.time() - self.refreshed_at >= MISS_REFRESH_S:
            await self.refresh()
            entry = self.tables.get(endpoint)
        return entry

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/metrics":
            status, body, headers = 200, await self.render_metrics(), [
                (b"content-type", b"text/plain; version=0.0.4")]
        elif path == "/healthz":  # instances: this one and the peers serving HTTP
            instances = 1 + (sum(await self._peers("serving")) if self._peers else 0)
            status, body, headers = 200, json.dumps(
                {"status": "ok", "endpoints": len(self.tables), "instances": instances,
                 "refreshed_at": self.refreshed_at}).encode(), JSON
        elif path.startswith("/endpoints/"):
            parts = path[len("/endpoints/"):].strip("/").split("/")
            hdrs = dict(scope["headers"])
            body_in = await read_body(receive, hdrs, self.cfg.max_body_bytes)
            try:
                refused = self._refuse(parts[0], hdrs)
                if body_in is None:
                    status, body, headers = _problem(413, "Payload too large",
                                                     messages.ROUTER_BODY_TOO_LARGE.format(
                                                         max=self.cfg.max_body_bytes))
                elif refused is not None:
                    status, body, headers = refused
                elif len(parts) == 1 and method == "POST":
                    status, body, headers = await self.predict(parts[0], body_in, hdrs)
                elif len(parts) == 1 and method == "GET":
                    status, body, headers = await self.describe(parts[0])
                elif len(parts) == 2 and parts[1] == "feedback" and method == "POST":
                    status, body, headers = await self.feedback(parts[0], body_in)
                else:
                    status, body, headers = _problem(404, "Not found", messages.ROUTER_ROUTES)
            except Exception:
                ref = uuid.uuid4().hex[:12]
                log.exception("router error (reference %s)", ref)
                status, body, headers = _problem(500, "Internal error",
                                                 messages.INTERNAL_ERROR.format(ref=ref))
        else:
            status, body, headers = _problem(404, "Not found", messages.ROUTER_ROUTES)
        await send_whole(send, status, body, headers)

    async def render_metrics(self) -> bytes:
        own = self.metrics.render()
        if self._peers is None:
            return own
        return merge([own, *await self._peers("counters")])

    # -- predict ------------------------------------------------------------------------------

    async def predict(self, endpoint: str, body: bytes, headers: dict):
        entry = await self._entry(endpoint)
        if entry is None:
            self.metrics.unrouted.labels(endpoint, "unknown endpoint").inc()
            return _problem(404, "Not found", messages.UNKNOWN_ENDPOINT.format(name=endpoint))
        if json_too_deep(body):  # the caller's fault: refused here, counted against no version
            return _problem(422, "Invalid input", messages.JSON_TOO_DEEP.format(
                field="body", max=MAX_JSON_DEPTH))
        table = entry[1]
        forced = headers.get(self._vh)
        if forced is not None:
            arm = table.find(forced.decode())
            if arm is None:
                self.metrics.unrouted.labels(endpoint, "unknown version").inc()
                return _problem(404, "Not found", messages.VERSION_NOT_ROUTED.format(
                    header=self.cfg.version_header, version=forced.decode(),
                    endpoint=endpoint, versions=", ".join(a.key for a in table.versions)))
        else:
            sticky = headers.get(self._sh)
            arm = choose(table, sticky_key=sticky.decode() if sticky else None,
                         stats=self.stats.get(endpoint))
            if arm is None:
                self.metrics.unrouted.labels(endpoint, "no version").inc()
                return _problem(503, "Service unavailable",
                                messages.ENDPOINT_HAS_NO_VERSIONS.format(endpoint=endpoint))
        rid = self.sign(endpoint, arm.key, bandit=table.strategy == "bandit")
        shadow = table.shadow if forced is None else None
        primary: asyncio.Future | None = None
        if shadow is not None:
            primary = asyncio.get_running_loop().create_future()
            self._spawn(self._mirror(endpoint, shadow, body, primary, rid))
        handle = self.handles.get(arm.app)
        if handle is None:  # the table is newer than the app (e.g. being restored)
            self.metrics.unrouted.labels(endpoint, "version not running").inc()
            if primary is not None:
                primary.set_result(None)
            return _problem(503, "Service unavailable", messages.VERSION_STARTING.format(
                version=arm.key, endpoint=endpoint))
        started = time.perf_counter()
        try:
            status, payload = await asyncio.wait_for(
                handle.predict.remote(body, rid), self.cfg.request_timeout_s)
        except Exception as exc:
            ref = uuid.uuid4().hex[:12]
            log.warning("endpoint %s version %s failed (reference %s): %r", endpoint, arm.key,
                        ref, exc)
            self.metrics.observe(endpoint, arm.key, False, time.perf_counter() - started)
            if primary is not None:
                primary.set_result(None)
            return _problem(503, "Service unavailable", messages.MODEL_UNAVAILABLE.format(
                version=arm.key, endpoint=endpoint, ref=ref))
        self.metrics.observe(endpoint, arm.key, status < 500, time.perf_counter() - started)
        if primary is not None:
            primary.set_result(payload.get("predictions") if status < 400 else None)
        out = [*(PROBLEM if status >= 400 else JSON),
               (self._vh, arm.key.encode()), (b"x-fleet-request-id", rid.encode())]
        return status, json.dumps(payload).encode(), out

    async def _mirror(self, endpoint: str, shadow, body: bytes, primary: asyncio.Future,
                      rid: str):
        """Send the same request to the shadow; record its outcome, latency and agreement.
        Nothing here can reach the caller: the caller's answer never waits for it."""
        started = time.perf_counter()
        try:
            status, payload = await asyncio.wait_for(
                self.handles[shadow.app].predict.remote(body, rid), self.cfg.shadow_timeout_s)
            # (a KeyError for a shadow that is not running yet lands below: an error)
            ok = status < 500
        except Exception:
            ok, status, payload = False, 599, {}
        self.metrics.observe(endpoint, shadow.key, ok, time.perf_counter() - started, True)
        if ok and status < 400:
            theirs = await primary
            if theirs is not None:
                same = agree(theirs, payload.get("predictions", []))
                self.metrics.agreement.labels(endpoint, shadow.key,
                                              "true" if same else "false").inc()

    # -- describe and feedback -------------------------------------------------------------

    async def describe(self, endpoint: str):
        entry = await self._entry(endpoint)
        if entry is None:
            return _problem(404, "Not found", messages.UNKNOWN_ENDPOINT.format(name=endpoint))
        arms = {k: v.model_dump() for k, v in self.stats.get(endpoint, {}).items()}
        return 200, json.dumps({"endpoint": endpoint, "generation": entry[0],
                                "routing": entry[1].dump(), "arms": arms}).encode(), JSON

    # -- who may call, and signed request ids -------------------------------------------------

    def _refuse(self, endpoint: str, headers: dict):
        """None when the caller may use `endpoint`, else the 401/403 answer."""
        tokens = self.cfg.endpoint_tokens
        allowed = tokens.get(endpoint, tokens.get("*"))
        if allowed is None or self._identities is None:
            return None
        token = bearer(headers.get(b"authorization", b"").decode())
        try:
            check_endpoint_caller(self._identities, allowed, endpoint, token)
        except FleetError as exc:
            status, body, hdrs = _problem(exc.status, exc.title, exc.detail)
            if token is None:
                hdrs = [*hdrs, (b"www-authenticate", b"Bearer")]
            return status, body, hdrs
        return None

    def sign(self, endpoint: str, version: str, issued: float | None = None, *,
             bandit: bool = True) -> str:
        return self.ids.sign(endpoint, version, issued, bandit=bandit)

    def verify(self, rid: str) -> tuple[str, str, float, bool] | None:
        return self.ids.verify(rid)

    async def feedback(self, endpoint: str, body: bytes):
        try:
            rid, reward, labels = parse_feedback(body)
        except ValueError as exc:
            return _problem(422, "Invalid input", str(exc))
        found = self.verify(rid)
        if found is None or found[0] != endpoint:
            return _problem(404, "Not found", messages.FEEDBACK_UNKNOWN.format(id=rid))
        _, version, issued, bandit = found
        if time.time() - issued > self.cfg.feedback_ttl_s:
            return _problem(410, "Gone", messages.FEEDBACK_EXPIRED.format(
                id=rid, ttl=self.cfg.feedback_ttl_s))
        if reward is not None and not bandit:
            return _problem(422, "Invalid input", messages.FEEDBACK_NOT_BANDIT.format(id=rid))
        out: dict = {"request_id": rid, "version": version}
        try:
            if labels is not None:
                out["labelled"] = await asyncio.to_thread(
                    self.store.labels.record, endpoint=endpoint, version=version,
                    request_id=rid, predicted_at=issued, labels=labels)
                self.metrics.labels.labels(endpoint, version).inc(out["labelled"])
            if reward is not None:
                await asyncio.to_thread(self.store.endpoints.record_reward, endpoint,
                                        version, reward, rid)
        except Conflict as exc:
            return _problem(409, "Conflict", exc.detail)
        if reward is None:
            return 200, json.dumps(out).encode(), JSON
        st = self.stats.setdefault(endpoint, {}).get(version) or ArmStats()
        self.stats[endpoint][version] = ArmStats(pulls=st.pulls + 1,
                                                 successes=st.successes + reward,
                                                 failures=st.failures + 1 - reward)
        self.metrics.feedback.labels(endpoint, version).inc()
        return 200, json.dumps(out | {"recorded": reward}).encode(), JSON


def _serve_handle(app: str):
    from ray import serve

    return serve.get_app_handle(app)
