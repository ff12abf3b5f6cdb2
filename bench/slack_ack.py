"""bench/slack_ack: how fast the Slack bot acknowledges `/fleet` commands and button clicks
while three slow commands are in flight (each `run sleep seconds=20` keeps a thread
polling for its result). Slack gives 3 s; the goal is p99 <= 100 ms. Then the outbox's
delivery lag: approval requests written at 50 events/s, each posted to Slack by the
notifier (`fleet bot` runs one); lag is from the event's commit to Slack's receipt of the
call, p50 and p99.

    python -m bench.slack_ack [--commands 300] [--clicks 100] [--rate 50] [--seconds 10]

The real bolt app over HTTP (uvicorn, as `fleet bot` serves it), signed requests as Slack
signs them, its WebClient on the local stand-in for the Slack Web API, a real Fleet behind
it. The client is http.client over one keep-alive connection (an httpx client costs 3-4 ms
of CPU per request here and would be measured with the bot).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlencode

from bench.common import free_port, start_fleet, stop_fleet, write_result

SECRET = "bench-signing-secret-0123456789"


def signed(body: str) -> dict:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def command_body(text: str, n: int) -> str:
    return urlencode({"command": "/fleet", "text": text, "user_id": "UPAT",
                      "channel_id": "CBENCH", "team_id": "T1", "trigger_id": f"t{n}"})


def click_body(n: int) -> str:
    payload = {"type": "block_actions", "user": {"id": "UPAT"}, "team": {"id": "T1"},
               "api_app_id": "A1", "trigger_id": f"c{n}", "channel": {"id": "CBENCH"},
               "container": {"type": "message", "message_ts": "1.1", "channel_id": "CBENCH"},
               "message": {"ts": "1.1"},
               "actions": [{"action_id": "fleet_approve", "value": f"ap-none{n}",
                            "type": "button", "block_id": "b", "action_ts": str(time.time())}]}
    return urlencode({"payload": json.dumps(payload)})


def timed(conn: http.client.HTTPConnection, body: str) -> float:
    started = time.perf_counter()
    conn.request("POST", "/slack/events", body=body, headers=signed(body))
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status
    return (time.perf_counter() - started) * 1000


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] if len(xs) >= 2 else xs[0]


def delivery_lag(client, slack, env, rate: float, seconds: float) -> dict:
    """Approval requests written at `rate` per second for `seconds`; the notifier posts
    each. Lag: the event's `at` (its commit) to the stand-in's receipt of chat.postMessage."""
    from slack_sdk import WebClient

    from bot.fleet_api import FleetAPI
    from bot.notifier import Notifier

    notifier = Notifier(FleetAPI(env.gateway_url, env.fleet_token),
                        WebClient(token="xoxb-bench", base_url=slack.url), "CBENCH")
    slack.clear()
    notifier.start()
    total, started = int(rate * seconds), time.monotonic()
    for n in range(total):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        client.store.approvals.create(gate="alias", target=f"model:bench-{n}@prod",
                                      summary=f"bench {n}", requested_by="bench",
                                      role="approver", ttl_s=3600)
    written_s = time.monotonic() - started
    deadline = time.monotonic() + 300
    while client.store.outbox.pending("slack", limit=1) and time.monotonic() < deadline:
        time.sleep(0.1)
    notifier.stop()
    at = {e["id"]: e["at"] for e in client.store.outbox.recent(limit=total + 100)}
    posts = [p for p in slack.of("chat.postMessage") if p.get("metadata")]
    ids = [p["metadata"]["event_payload"]["event_id"] for p in posts]
    lags = [(p["_at"] - at[i]) * 1000 for p, i in zip(posts, ids, strict=True) if i in at]
    return {"events": total, "written_per_s": round(total / written_s, 1),
            "posted": len(posts), "posted_twice": len(ids) - len(set(ids)),
            "lag_ms": {"p50": round(pct(lags, 50), 1), "p99": round(pct(lags, 99), 1),
                       "max": round(max(lags), 1)} if lags else None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--clicks", type=int, default=100)
    ap.add_argument("--rate", type=float, default=50.0, help="outbox events per second")
    ap.add_argument("--seconds", type=float, default=10.0, help="for this long")
    args = ap.parse_args()
    start_fleet(tag="-slack")
    try:
        import uvicorn

        from bot import BotEnv, asgi_app
        from fleet.cluster import ClusterInfo
        from fleet.config import BotConfig
        from fleet.runtime import Client
        from tests.support.fake_slack import FakeSlack

        client = Client()
        bot_token, _ = client.store.tokens.add(name="slack-bot", actor="bench",
                                               scopes=["read", "invoke", "act_as", "notify"],
                                               roles=[])
        client.store.tokens.add(name="pat", scopes=["invoke"], roles=["approver"],
                                actor="bench")
        slack = FakeSlack()
        settings = client.settings.model_copy(update={"bot": BotConfig(users={"UPAT": "pat"})})
        env = BotEnv(bot_token="xoxb-bench", signing_secret=SECRET, fleet_token=bot_token,
                     gateway_url=ClusterInfo.read(client.settings).gateway_url,
                     api_url=slack.url)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(asgi_app(settings, env), host="127.0.0.1",
                                               port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        time.sleep(1.0)  # the identity table refresh picks up the new tokens
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(3):  # three slow commands in flight for the whole measurement
            timed(conn, command_body("run sleep seconds=20", i))
        time.sleep(1.0)
        cmds = [timed(conn, command_body("help", i)) for i in range(args.commands)]
        clicks = [timed(conn, click_body(i)) for i in range(args.clicks)]
        in_flight = [m for m in slack.of("chat.postMessage") if "Started `sleep`" in m["text"]]
        out = {"in_flight_slow_commands": len(in_flight),
               "command_ack_ms": {"p50": round(pct(cmds, 50), 2), "p99": round(pct(cmds, 99), 2),
                                  "n": len(cmds)},
               "click_ack_ms": {"p50": round(pct(clicks, 50), 2),
                                "p99": round(pct(clicks, 99), 2), "n": len(clicks)},
               "goal": "p99 <= 100 ms (Slack's limit: 3000 ms)",
               "outbox_delivery": delivery_lag(client, slack, env, args.rate, args.seconds)}
        deadline = time.monotonic() + 60  # the slow commands' results, before Slack stops
        while time.monotonic() < deadline and len([
                m for m in slack.of("chat.postMessage") if m.get("thread_ts")]) < 3:
            time.sleep(0.2)
        print(json.dumps(out, indent=2))
        write_result("slack_ack", out)
        server.should_exit = True
        slack.stop()
    finally:
        stop_fleet()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
