"""A local stand-in for the Slack Web API: an HTTP server on 127.0.0.1 that answers the
methods the bot calls and records every call. The tests point the bot's WebClient at it
(the way bolt-python tests itself), and `fleet bot console` uses it to run the bot with no
workspace at all."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class LocalSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.ws_url = ""  # what apps.connections.open hands out (Socket Mode)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if "json" in (self.headers.get("content-type") or ""):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                body = fake.answer(method, params)
                out = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, method: str, params: dict) -> dict:
        with self._lock:
            ts = f"1700000000.{next(self._ts):06d}"
            self.calls.append((method, {**params, "_ts": ts}))  # _ts: what it answered
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "url": "https://fleet-test.slack.com/", "team": "fleet", "user": "fleet"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V1"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "conversations.history":
            return {"ok": True, "messages": []}
        return {"ok": True}

    def of(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()
