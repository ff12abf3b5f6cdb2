"""The demo's drift story: the customers the churn endpoint sees get older and richer; a
drift check scheduled with `fleet drift watch` catches it; its alert reaches Slack (the
bot console) with its plot saved to a file; someone asks to retrain from the alert, and a
second person approves it, which trains a new version as the person who asked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
from rich.console import Console

from fleet.cli.demo.common import (
    DEMO,
    DEPLOYER,
    DEPLOYER_NAME,
    DemoError,
    bot_session,
    person_token,
    svc,
)
from fleet.cli.drift import schedule_name

console = Console(highlight=False)
SHIFT = {"age": 20, "income": 2.0}  # years added, income multiplied


def shifted_rows(good: Path, n: int = 2000, seed: int = 11) -> tuple[list[dict], list[int]]:
    """Customers moved by SHIFT, and whether each churned (what they really did: the labels
    that come back later, which the older, richer customers no longer match the model on)."""
    df = pd.read_parquet(good, columns=["age", "income", "churned"]).sample(
        n, random_state=seed, replace=True)
    rows = [{"age": int(a) + SHIFT["age"], "income": round(float(i) * SHIFT["income"], 2)}
            for a, i in zip(df["age"], df["income"], strict=True)]
    return rows, [int(c) for c in df["churned"]]


def _fleet(*args: str) -> str:
    out = subprocess.run([str(Path(sys.executable).parent / "fleet"), *args],
                         capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    return (out.stdout or out.stderr).strip()


def drift_story(client, info, url: str, good: Path, step, transcript, approver: str) -> None:
    step(18, "drift: the inputs shift; a scheduled check catches it; the alert in Slack; "
             "a retrain behind an approval")
    # via Slack a person acts with their own roles (never the bot's or an admin's scope):
    # the retrain is asked by someone with the deployer role
    person_token(client, DEPLOYER_NAME, DEPLOYER)
    rows, churned = shifted_rows(good)
    console.print(f"  customers get older (+{SHIFT['age']} years) and richer "
                  f"(x{SHIFT['income']:g} income): {len(rows)} of them, in batches of 20; "
                  "whether each churned comes back as labels (POST .../feedback)")
    labelled = 0
    with httpx.Client(timeout=60) as c:
        for i in range(0, len(rows), 20):
            r = c.post(url, json={"instances": rows[i:i + 20]})
            rid = r.headers.get("x-fleet-request-id")
            if r.status_code == 200 and rid:
                fb = c.post(f"{url}/feedback", json={"request_id": rid,
                                                     "labels": churned[i:i + 20]})
                labelled += fb.json().get("labelled", 0) if fb.status_code == 200 else 0
    console.print(f"  {labelled} labels sent; the drift report shows the realised accuracy "
                  "next to its estimate from confidence (CBPE) and the figure at registration")
    session = bot_session(
        client.settings, info.gateway_url, svc(client), out=transcript, wait_s=3.0,
        echo=True)
    name = schedule_name("churn")
    try:
        try:
            svc(client).schedules.remove(DEMO, name)  # left by an interrupted demo
        except Exception:
            pass
        svc(client).drift.snooze(DEMO, "churn", 0)  # no alert left open
        console.print("  $ fleet drift watch churn --every 20s --window 10m")
        _fleet("drift", "watch", "churn", "--every", "20s", "--window", "10m")
        console.print("  (the replicas flush their prediction logs every 10 s; the next "
                      "slot's check reads the last 10 minutes)")
        session.watch(150, until=lambda: "[file]" in transcript.text)
        if "[file]" not in transcript.text:
            raise DemoError("the scheduled drift check raised no alert in 150 s; see "
                            "`fleet drift churn` and `fleet invocations -f drift_check`")
        for line in _fleet("drift", "churn").splitlines():
            console.print("  " + line)
        session.send(f"as {DEPLOYER_NAME}")
        session.send("click fleet_drift_retrain churn")
        asked = [a for a in svc(client).approvals.list(DEMO, status="pending", limit=20)
                 if a.target == "endpoint:churn" and a.requested_by == DEPLOYER_NAME]
        if not asked:
            raise DemoError("the Retrain click opened no approval")
        session.watch(20, until=lambda: session.has_button("fleet_approve"))
        session.send(f"as {approver}")
        session.send(f"click fleet_approve {asked[0].id}")
        deadline = time.monotonic() + 600
        inv = None
        while time.monotonic() < deadline:
            inv = svc(client).approvals.action_invocation(DEMO, asked[0].id)
            if inv is not None and inv.done:
                break
            time.sleep(1)
        if inv is None or inv.status.value != "succeeded":
            raise DemoError(f"the approved retrain did not finish: "
                            f"{inv.error_message if inv else 'never started'}")
        console.print(f"  retrained as {inv.caller} (via {inv.via}): "
                      f"churn:{inv.result['version']} registered; roll it out with "
                      f"`fleet invoke rollout action=start endpoint=churn "
                      f"model=churn:{inv.result['version']}`")
    finally:
        try:
            svc(client).schedules.remove(DEMO, name)
        except Exception:
            pass
        session.close()


class Recorded:
    """A console transcript that prints each line and keeps the text (to wait on)."""

    def __init__(self, sink) -> None:
        self.sink, self.text = sink, ""

    def write(self, text: str) -> None:
        self.text += text
        self.sink.write(text)

    def flush(self) -> None:
        self.sink.flush()
