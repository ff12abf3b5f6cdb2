"""The demo's serving part: deploy the champion behind an endpoint, roll out a retrained
version by canary behind an approval given from the CLI by a second identity, under a
bounded load, then roll out a deliberately bad version and watch it roll back by itself.
Every rollout event is printed as it happens (the ladder)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from fleet.cli import render
from fleet.cli.demo.common import (
    APPROVER,
    APPROVER_NAME,
    DEMO,
    DemoError,
    Transcript,
    bot_session,
    console,
    person_token,
    step,
    svc,
)
from fleet.serving import router_url

ROW = {"instances": [{"age": 61, "income": 18000.0}]}

def approver_token(client) -> str:
    """The second person, who approves (the approver role)."""
    return person_token(client, APPROVER_NAME, APPROVER)


class Load:
    """Bounded background traffic: 2 loops, each at most `limit` requests."""

    def __init__(self, url: str, limit: int = 4000, rows: list[dict] | None = None) -> None:
        """`rows`: customers to send, one per request at random (default: always ROW)."""
        self.url, self.limit, self.rows = url, limit, rows
        self.seen: Counter = Counter()
        self.errors: Counter = Counter()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(2)]

    def _loop(self) -> None:
        with httpx.Client(timeout=30) as c:
            for _ in range(self.limit):
                if self._stop.is_set():
                    return
                try:
                    body = {"instances": [random.choice(self.rows)]} if self.rows else ROW
                    r = c.post(self.url, json=body)
                    version = r.headers.get("x-fleet-version", "?")
                    self.seen[version] += 1
                    if r.status_code >= 500:
                        self.errors[version] += 1
                except httpx.HTTPError:
                    self.errors["(connection)"] += 1
                time.sleep(0.02)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)

    def summary(self) -> str:
        parts = [f"{v}: {n} requests" + (f", {self.errors[v]} errors" if self.errors[v] else "")
                 for v, n in sorted(self.seen.items())]
        return "; ".join(parts) or "no requests"


def _invoke(http: httpx.Client, name: str, payload: dict) -> dict:
    rec = http.post(f"/v1/functions/{name}/invoke?wait=300", json=payload).json()
    if rec.get("status") != "succeeded":
        raise DemoError(f"{name} failed: {rec.get('error') or rec.get('detail') or rec}")
    return rec["result"]


def _follow(client, rid: str, on_approval=None, timeout_s: float = 300) -> str:
    """Print each new event of a rollout until it ends; returns the final status."""
    printed, asked = 0, set()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events = svc(client).rollouts.events(DEMO, rid)
        for e in events[printed:]:
            console.print("  " + render.ladder_line(e), highlight=False)
        printed = len(events)
        ro = svc(client).rollouts.get(DEMO, rid)
        aid = ro.state.get("approval_id")
        if ro.status == "awaiting_approval" and on_approval and aid not in asked:
            asked.add(aid)
            on_approval(aid)
        if not ro.active:
            return ro.status
        time.sleep(0.5)
    return svc(client).rollouts.get(DEMO, rid).status


def serving_story(client, info, token: str, good: Path) -> None:
    settings = client.settings
    approver = approver_token(client)
    url = f"{router_url(settings)}/endpoints/churn"
    import pandas as pd

    # the customers the endpoint sees: the training table's own (step 18 shifts them)
    customers = pd.read_parquet(good, columns=["age", "income"]).to_dict("records")
    with httpx.Client(base_url=info.gateway_url, timeout=900,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        ep = svc(client).endpoints.find(DEMO, "churn")
        if ep and ep.active_rollout:  # left over from an interrupted demo
            _invoke(http, "rollout", {"action": "abort", "endpoint": "churn"})
            _follow(client, ep.active_rollout, timeout_s=60)

        step(12, "deploy churn@champion to the endpoint 'churn' (its own Serve app)")
        out = _invoke(http, "deploy", {"model": "churn@champion", "endpoint": "churn"})
        where = f"routed {out['weight']:g}%" if out["routed"] else "staged"
        console.print(f"  {out['model']}:{out['version']} as app {out['app']}, {where}")
        r = httpx.post(url, json=ROW, timeout=60)
        console.print(f"  POST {url} -> {r.status_code} {r.json()} "
                      f"(x-fleet-version {r.headers.get('x-fleet-version')})")

        step(13, "retrain: a second version of churn")
        trained = _invoke(http, "train", {"data": str(good), "features": ["age", "income"],
                                          "label": "churned", "epochs": 2, "num_workers": 1,
                                          "lr": 0.02, "seed": 5, "experiment": "churn"})
        v2 = trained["version"]
        console.print(f"  churn:{v2} registered")

        step(14, f"canary of churn:{v2}: approval first, then 10 → 25 → 50 → 100% under load")

        def approve(aid: str) -> None:
            console.print(f"  [yellow]approval {aid} needed[/]; a second person approves "
                          f"from the CLI:\n  $ FLEET_TOKEN=… fleet approve {aid}")
            done = subprocess.run([str(Path(sys.executable).parent / "fleet"), "approve", aid,
                                   "-m", "canary looks sane"], capture_output=True, text=True,
                                  env={**os.environ, "FLEET_TOKEN": approver})
            console.print(f"  {(done.stdout or done.stderr).strip()}")

        spec = {"steps": [10, 25, 50, 100], "interval_s": 3, "hold_s": 3, "drain_s": 2,
                "gates": ["start"], "thresholds": {"min_requests": 5, "success_rate_min": 99,
                                                   "p99_ms_max": 1000}}
        with Load(url, rows=customers) as load:
            rid = _invoke(http, "rollout", {"action": "start", "endpoint": "churn",
                                            "model": f"churn:{v2}", "spec": spec})["rollout"]["id"]
            status = _follow(client, rid, on_approval=approve)
        console.print(f"  [bold]{rid}: {status}[/]   traffic: {load.summary()}")

        step(15, "a deliberately bad version (50% injected errors): automatic rollback")
        bad = svc(client).models.version(DEMO, f"churn:{v2}")
        v3 = svc(client).models.register(
            DEMO, model="churn", artifact_uri=bad.artifact_uri, flavor=bad.flavor,
            metrics=bad.metrics, params=bad.params, lineage=bad.lineage,
            tags={"demo": "deployed with fault_error_rate 0.5"}).version
        spec = {"steps": [10, 25, 50, 100], "interval_s": 3, "drain_s": 2,
                "thresholds": {"min_requests": 5, "success_rate_min": 99}}
        with Load(url, rows=customers) as load:
            rid = _invoke(http, "rollout", {"action": "start", "endpoint": "churn",
                                            "model": f"churn:{v3}", "spec": spec,
                                            "serving": {"fault_error_rate": 0.5}})["rollout"]["id"]
            status = _follow(client, rid)
        console.print(f"  [bold]{rid}: {status}[/]   traffic: {load.summary()}")
        routes = [f"{v['model']}:{v['version']} {v['weight']:g}%"
                  for v in svc(client).endpoints.get(DEMO, "churn").routing["versions"]]
        console.print(f"  endpoint 'churn' now routes: {', '.join(routes)}")
        bot_transcript(client, info, http, url, bad, customers)
        console.print(f"\n  Try it:  curl -s -X POST {url} -d '{{\"instances\": "
                      f"[{{\"age\": 61, \"income\": 18000}}]}}'")


def bot_transcript(client, info, http: httpx.Client, url: str, base,
                   customers: list[dict]) -> None:
    """The Slack bot with no workspace (`fleet bot console`'s session, scripted): the
    rollout's one message is posted, then updated in place step by step with details in its
    thread, and a second person clicks Approve."""
    step(16, "the Slack bot, no workspace needed: one message per rollout, updated in place; "
              "an approval clicked by a second person")
    v4 = svc(client).models.register(
        DEMO, model="churn", artifact_uri=base.artifact_uri, flavor=base.flavor,
        metrics=base.metrics, params=base.params, lineage=base.lineage).version
    session = bot_session(
        client.settings, info.gateway_url, svc(client), out=Transcript(), wait_s=2.0,
        echo=True)
    try:
        session.send("/fleet rollout status churn")
        spec = {"steps": [50, 100], "interval_s": 2, "hold_s": 1, "drain_s": 1,
                "gates": ["start"], "thresholds": {"min_requests": 5}}
        console.print(f"  (the admin starts a canary of churn:{v4} behind an approval)")
        with Load(url, rows=customers) as load:
            rid = _invoke(http, "rollout", {"action": "start", "endpoint": "churn",
                                            "model": f"churn:{v4}", "spec": spec})["rollout"]["id"]
            session.watch(60, until=lambda: session.has_button("fleet_approve"))
            session.send(f"as {APPROVER_NAME}")
            session.send("click fleet_approve")
            services = svc(client)
            session.watch(120, until=lambda: services.rollouts.get(DEMO, rid).status in (
                "succeeded", "rolled_back", "failed") and not services.outbox.pending(
                DEMO, session.consumer))
        console.print(f"  [bold]{rid}: {services.rollouts.get(DEMO, rid).status}[/]   "
                      f"traffic: {load.summary()}")
    finally:
        session.close()
