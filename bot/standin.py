"""A local stand-in for the Slack Web API: an HTTP server on 127.0.0.1 that answers the
methods the bot calls and records every call. The tests point the bot's WebClient at it
(the way bolt-python tests itself), and `fleet bot console` uses it to run the bot with no
workspace at all.

It keeps the messages posted per channel (with their metadata, so
`conversations.history` and `conversations.replies` answer as Slack does), and it can
misbehave on purpose: go down (its port refuses connections), rate-limit (429 with
Retry-After), or answer a method slowly after it has taken effect (a notifier killed while
waiting has still posted)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class LocalSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.messages: dict[str, list[dict]] = {}  # channel -> messages, oldest first
        self.refused = 0  # calls answered 429
        self.in_flight = 0  # slow calls taken in but not yet answered
        self.ws_url = ""  # what apps.connections.open hands out (Socket Mode)
        self.groups: dict[str, list[str]] = {}  # user group id -> member user ids
        self.strict_updates = False  # True: chat.update of an unknown ts is message_not_found
        self.files: dict[str, dict] = {}  # file id -> name, title, content, channel, thread
        # channel name -> id, for a test that needs Slack's ids (add_channel): a #name then
        # posts to the id, and chat.update and conversations.* refuse the name
        self.channels: dict[str, str] = {}
        self._file_ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._limited_until, self._retry_after = 0.0, 1
        self._slow: dict[str, float] = {}
        self._port = 0
        self._serve()

    # -- the server -----------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
                out = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def _handle(self, params: dict) -> None:
                method = urlsplit(self.path).path.rsplit("/", 1)[-1]
                if method != "auth.test" and time.time() < fake._limited_until:
                    with fake._lock:
                        fake.refused += 1
                    self._reply(429, {"ok": False, "error": "ratelimited"},
                                {"Retry-After": str(fake._retry_after)})
                    return
                body = fake.answer(method, params)
                if method in fake._slow:
                    with fake._lock:
                        fake.in_flight += 1
                    time.sleep(fake._slow[method])
                    with fake._lock:
                        fake.in_flight -= 1
                try:
                    self._reply(200, body)
                except OSError:  # the caller died waiting (a killed notifier)
                    pass

            def do_GET(self):  # noqa: N802 (conversations.* are GETs in slack_sdk)
                query = urlsplit(self.path).query
                self._handle({k: v[0] for k, v in parse_qs(query).items()})

            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if "/upload/" in self.path:  # step 2 of files_upload_v2: the bytes
                    ok = fake.receive(self.path.rsplit("/", 1)[-1], raw)
                    out = f"OK - {len(raw)}".encode() if ok else b"unknown upload"
                    self.send_response(200 if ok else 404)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                    return
                if "json" in (self.headers.get("content-type") or ""):
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                self._handle(params)

        return Handler

    def _serve(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler())
        self.server.daemon_threads = True
        self._port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self._port}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_channel(self, name: str) -> str:
        """A channel with an id, as a workspace has: returns the id."""
        with self._lock:
            return self.channels.setdefault(name.lstrip("#"), f"C{len(self.channels) + 1:08d}")

    # -- misbehaving on purpose ---------------------------------------------------------------

    def delete(self, channel: str, ts: str) -> None:
        """A person deletes a message (and so its thread) in Slack."""
        with self._lock:
            self.messages[channel] = [m for m in self.messages.get(channel, [])
                                      if ts not in (m["ts"], m.get("thread_ts"))]

    def go_down(self) -> None:
        """Close the port: every call fails to connect until `come_up`."""
        self.server.shutdown()
        self.server.server_close()

    def come_up(self) -> None:
        self._serve()  # the same port

    def rate_limit(self, seconds: float, retry_after: int = 1) -> None:
        """Answer 429 with Retry-After to everything but auth.test for `seconds`."""
        self._retry_after = retry_after
        self._limited_until = time.time() + seconds

    def slow(self, method: str, seconds: float) -> None:
        """Answer `method` only `seconds` after it has taken effect (0 to stop)."""
        if seconds:
            self._slow[method] = seconds
        else:
            self._slow.pop(method, None)

    # -- Slack's answers ------------------------------------------------------------------------

    @staticmethod
    def _decoded(params: dict) -> dict:
        out = dict(params)
        for key in ("blocks", "metadata"):
            if isinstance(out.get(key), str):
                try:
                    out[key] = json.loads(out[key])
                except ValueError:
                    pass
        return out

    def answer(self, method: str, params: dict) -> dict:
        params = self._decoded(params)
        with self._lock:
            ts = f"1700000000.{next(self._ts):06d}"
            # _ts: what it answered; _at: when the call came in
            self.calls.append((method, {**params, "_ts": ts, "_at": time.time()}))
            return self._answer(method, params, ts)

    def _answer(self, method: str, params: dict, ts: str) -> dict:
        channel = params.get("channel")
        if channel and channel.startswith("#") and self.channels:
            if method != "chat.postMessage":  # Slack wants ids everywhere else
                return {"ok": False, "error": "channel_not_found"}
            channel = self.channels.get(channel[1:], channel)
        if method == "conversations.list":
            return {"ok": True, "channels": [{"id": i, "name": n}
                                             for n, i in self.channels.items()]}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "url": "https://fleet-test.slack.com/", "team": "fleet", "user": "fleet"}
        if method == "chat.postMessage":
            msg = {"type": "message", "ts": ts, "text": params.get("text"),
                   "blocks": params.get("blocks"), "user": "UBOT"}
            if params.get("thread_ts"):
                msg["thread_ts"] = params["thread_ts"]
            if params.get("metadata"):
                msg["metadata"] = params["metadata"]
            self.messages.setdefault(channel, []).append(msg)
            return {"ok": True, "channel": channel, "ts": ts, "message": msg}
        if method == "chat.update":
            for msg in self.messages.get(channel, []):
                if msg["ts"] == params.get("ts"):
                    msg.update(text=params.get("text"), blocks=params.get("blocks"),
                               edited={"ts": ts})
                    return {"ok": True, "channel": channel, "ts": msg["ts"]}
            if self.strict_updates:
                return {"ok": False, "error": "message_not_found"}
            # a message posted before this stand-in started (a test clicking on a message
            # it never posted): recorded, and answered as Slack answers a known one
            return {"ok": True, "channel": channel, "ts": params.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V1"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "conversations.history":  # top-level messages, newest first
            top = [m for m in self.messages.get(channel, [])
                   if m.get("thread_ts", m["ts"]) == m["ts"]]
            return self._page(top[::-1], params)
        if method == "conversations.replies":  # the parent, then its replies, oldest first
            thread = [m for m in self.messages.get(channel, [])
                      if params.get("ts") in (m["ts"], m.get("thread_ts"))]
            return self._page(thread, params)
        if method == "usergroups.users.list":
            if params.get("usergroup") not in self.groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.groups[params["usergroup"]]}
        if method == "files.getUploadURLExternal":
            fid = f"F{next(self._file_ids):06d}"
            self.files[fid] = {"id": fid, "name": params.get("filename"), "content": None,
                               "length": int(params.get("length") or 0)}
            return {"ok": True, "upload_url": f"{self.url}upload/{fid}", "file_id": fid}
        if method == "files.completeUploadExternal":
            return self._complete_upload(params, ts)
        if method == "files.upload":  # retired by Slack: new apps get this error
            return {"ok": False, "error": "method_deprecated"}
        return {"ok": True}

    def receive(self, fid: str, content: bytes) -> bool:
        with self._lock:
            f = self.files.get(fid)
            if f is None:
                return False
            f["content"] = content
            return True

    def _complete_upload(self, params: dict, ts: str) -> dict:
        """Share uploaded files in a channel (and thread), as a message, as Slack does."""
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        shared = []
        for f in files:
            known = self.files.get(f.get("id"))
            if known is None or known["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            known.update(title=f.get("title") or known["name"],
                         channel=params.get("channel_id"), thread_ts=params.get("thread_ts"))
            shared.append({k: v for k, v in known.items() if k != "content"})
        channel = params.get("channel_id")
        if channel:
            msg = {"type": "message", "ts": ts, "text": params.get("initial_comment") or "",
                   "files": shared, "user": "UBOT"}
            if params.get("thread_ts"):
                msg["thread_ts"] = params["thread_ts"]
            self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "files": shared}

    @staticmethod
    def _page(msgs: list[dict], params: dict) -> dict:
        """One page of `limit` messages from `cursor`, with the next cursor when there are
        more, as Slack pages conversations.history and .replies."""
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        keep = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [m if keep else {k: v for k, v in m.items() if k != "metadata"}
                 for m in msgs[start:start + limit]]
        more = start + limit < len(msgs)
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    # -- what the tests look at -------------------------------------------------------------

    def of(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
