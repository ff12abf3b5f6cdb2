"""The LLM app: an OpenAI-compatible API (`/v1/chat/completions` and `/v1/completions`, both
streaming as Server-Sent Events when asked, and `/v1/models`) in front of the configured
backend (fleet.llm.backends: a local CPU model from a package, or any OpenAI-compatible URL).

Run it with the Fleet server by listing it in fleet.yaml:

    serving:
      apps: [{name: llm, import_path: 'serve_apps.llm:build', route_prefix: /llm}]

then any OpenAI client works against http://SERVE_HOST:SERVE_PORT/llm/v1.

Metrics (Ray's metrics agent exports them to Prometheus, prefixed `ray_`), per model:
tokens generated (a counter: its rate is tokens/s), time to first token and decode speed
per request (histograms), and the queue: requests accepted that have no first token yet.
"""

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from ray import serve
from starlette.concurrency import iterate_in_threadpool

from fleet.serving.edge import EdgeSettings, guard

api = FastAPI(title="Fleet LLM", description="OpenAI-compatible chat and completions.")
EDGE = EdgeSettings()  # endpoint_tokens, body size and depth: fleet.serving.edge


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str


class _Common(BaseModel):
    # OpenAI clients send fields this server does not use (n=1, top_p, user...): ignored.
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1, le=32_768)
    # What newer OpenAI clients (and LangChain's ChatOpenAI) send instead of max_tokens.
    max_completion_tokens: int | None = Field(None, ge=1, le=32_768)
    temperature: float = Field(0.0, ge=0, le=2)
    stream: bool = False
    stop: str | list[str] | None = None
    stream_options: dict | None = None

    def stops(self) -> list[str] | None:
        return [self.stop] if isinstance(self.stop, str) else self.stop


class ChatRequest(_Common):
    messages: list[Message] = Field(min_length=1)


class CompletionRequest(_Common):
    prompt: str


# The helpers sit above the class: Serve's ingress pickles the class by value, and a replica
# did not find a module function defined below it (NameError on _usage).
def _error(status: int, message: str, kind: str, param: str | None = None) -> JSONResponse:
    """OpenAI's error shape, so clients show the message."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": param,
                                   "code": None}}, status_code=status)


def _render(status: int, title: str, detail: str, field: str | None) -> tuple[bytes, str]:
    kind = {401: "authentication_error", 403: "permission_error", 413: "invalid_request_error",
            422: "invalid_request_error"}.get(status, "api_error")
    return json.dumps({"error": {"message": detail, "type": kind, "param": field,
                                 "code": None}}).encode(), "application/json"


guard(api, EDGE, _render)


def _usage(usage) -> dict:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


class _Metrics:
    def __init__(self) -> None:
        from ray.util.metrics import Counter, Gauge, Histogram

        tags = ("model",)
        self.tokens = Counter("fleet_llm_tokens_generated",
                              description="Tokens generated (rate = tokens/s).", tag_keys=tags)
        self.ttft = Histogram("fleet_llm_time_to_first_token_s",
                              description="From request to first token.", tag_keys=tags,
                              boundaries=[0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60])
        self.speed = Histogram("fleet_llm_tokens_per_s", description="Decode speed.",
                               tag_keys=tags, boundaries=[1, 2, 5, 10, 20, 50, 100, 200, 500])
        self.queue = Gauge("fleet_llm_queue_length",
                           description="Requests accepted without a first token yet.",
                           tag_keys=tags)


# Decorated where the class is defined: Serve converts the routes to methods when the
# decorator runs, and a replica gets this module by import, so the decorator must run there
# too (applied inside llm_app, a replica saw `self` as a query parameter).
@serve.ingress(api)
class LLMServer:
    def __init__(self, fleet_home: str, llm: dict | None = None, name: str = "llm") -> None:
        """`llm` overrides fleet.yaml's `llm:` for this app (two apps, two backends);
        `name`: its serving.apps name (what serving.endpoint_tokens calls it)."""
        from fleet.config import load_settings, with_llm
        from fleet.llm.backends import backend_for

        settings = with_llm(load_settings(Path(fleet_home)), llm)
        EDGE.configure(settings, name)
        self.backend = backend_for(settings)
        self.default_max = settings.llm.max_tokens
        self.metrics = _Metrics()
        self.tags = {"model": self.backend.model}
        self.waiting = 0
        self._count = threading.Lock()

    def _queue(self, change: int) -> None:
        with self._count:
            self.waiting += change
            self.metrics.queue.set(self.waiting, tags=self.tags)

    @api.get("/v1/models")
    def models(self) -> dict:
        return {"object": "list", "data": [{"id": self.backend.model, "object": "model",
                                            "created": 0, "owned_by": "fleet"}]}

    @api.post("/v1/chat/completions")
    async def chat(self, req: ChatRequest):
        return await self._answer(req, [m.model_dump() for m in req.messages], None)

    @api.post("/v1/completions")
    async def complete(self, req: CompletionRequest):
        return await self._answer(req, None, req.prompt)

    async def _answer(self, req: _Common, messages, prompt):
        from fleet.llm import Usage

        if req.model and req.model != self.backend.model:
            return _error(404, f"The model '{req.model}' is not served here; this app serves "
                               f"'{self.backend.model}' (GET /v1/models).",
                          "invalid_request_error", "model")
        usage = Usage()
        max_tokens = req.max_tokens or req.max_completion_tokens or self.default_max
        pieces = self._timed(self.backend.stream(
            messages=messages, prompt=prompt, max_tokens=max_tokens,
            temperature=req.temperature, stop=req.stops(), usage=usage), usage)
        kind = "chat.completion" if messages is not None else "text_completion"
        rid = f"{'chatcmpl' if messages is not None else 'cmpl'}-{uuid.uuid4().hex[:24]}"
        from fleet.llm.errors import BackendError, ContextLengthExceeded

        # The first piece before any answer: a prompt too long or a backend that cannot be
        # reached is then a proper HTTP error, not a 200 whose stream breaks.
        stream = iterate_in_threadpool(pieces)
        try:
            first = [await stream.__anext__()]
        except StopAsyncIteration:
            first = []
        except ContextLengthExceeded as exc:
            return _error(400, str(exc), "invalid_request_error", "messages"
                          if messages is not None else "prompt")
        except BackendError as exc:
            return _error(502, str(exc), "backend_error")
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            return StreamingResponse(self._events(first, stream, usage, max_tokens, kind,
                                                  rid, include_usage),
                                     media_type="text/event-stream")
        try:
            text = "".join(first + [p async for p in stream])
        except BackendError as exc:
            return _error(502, str(exc), "backend_error")
        finish = "length" if usage.completion_tokens >= max_tokens else "stop"
        choice = ({"index": 0, "message": {"role": "assistant", "content": text},
                   "finish_reason": finish} if messages is not None
                  else {"index": 0, "text": text, "finish_reason": finish})
        return {"id": rid, "object": kind, "created": int(time.time()),
                "model": self.backend.model, "choices": [choice], "usage": _usage(usage)}

    def _timed(self, pieces, usage):
        """Pass the pieces through, recording the queue, time to first token and speed."""
        started = time.monotonic()
        self._queue(+1)
        first = None
        try:
            for piece in pieces:
                if first is None:
                    first = time.monotonic()
                    self._queue(-1)
                    self.metrics.ttft.observe(first - started, tags=self.tags)
                yield piece
        finally:
            if first is None:
                self._queue(-1)
            done = usage.completion_tokens
            if done:
                self.metrics.tokens.inc(done, tags=self.tags)
                if first is not None and done > 1:
                    span = max(time.monotonic() - first, 1e-6)
                    self.metrics.speed.observe((done - 1) / span, tags=self.tags)

    async def _events(self, first, pieces, usage, max_tokens, kind, rid, include_usage):
        from fleet.llm.errors import BackendError

        chat = kind == "chat.completion"
        base = {"id": rid, "object": "chat.completion.chunk" if chat else kind,
                "created": int(time.time()), "model": self.backend.model}

        def event(choice: dict | None, **extra) -> str:
            body = {**base, "choices": [] if choice is None else [choice], **extra}
            return f"data: {json.dumps(body)}\n\n"

        if chat:
            yield event({"index": 0, "delta": {"role": "assistant", "content": ""},
                         "finish_reason": None})
        def piece_event(piece: str) -> str:
            return event({"index": 0, "delta": {"content": piece}, "finish_reason": None}
                         if chat else {"index": 0, "text": piece, "finish_reason": None})

        for piece in first:
            yield piece_event(piece)
        try:
            async for piece in pieces:
                yield piece_event(piece)
        except BackendError as exc:
            failure = {"error": {"message": str(exc), "type": "backend_error"}}
            yield f"data: {json.dumps(failure)}\n\n"
            return
        finish = "length" if usage.completion_tokens >= max_tokens else "stop"
        yield event({"index": 0, "delta": {}, "finish_reason": finish} if chat
                    else {"index": 0, "text": "", "finish_reason": finish})
        if include_usage:
            yield event(None, usage=_usage(usage))
        yield "data: [DONE]\n\n"


def llm_app(fleet_home: str, *, llm: dict | None = None, num_cpus: float = 0.0,
            num_gpus: float = 0.0, min_replicas: int = 1, max_replicas: int = 2,
            name: str = "llm"):
    """num_cpus 0 by default, as the RAG app's: a replica that holds a CPU share for good
    starves Ray Data's batch jobs on a small machine; on a cluster, give it a real share.
    The vllm backend needs num_gpus (1 per replica)."""
    deployment = serve.deployment(
        LLMServer, name="llm", max_ongoing_requests=16,
        ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus},
        autoscaling_config={"min_replicas": min_replicas, "max_replicas": max_replicas,
                            "target_ongoing_requests": 2})
    return deployment.bind(fleet_home, llm, name)


def build(args: dict):
    """The builder `serving.apps` calls. args: num_cpus, num_gpus, min_replicas,
    max_replicas, `name` (the app's serving.apps name, for endpoint_tokens; default llm),
    and `llm` (a mapping like fleet.yaml's `llm:`) for a backend other than
    the configured one."""
    from fleet.config import load_settings

    return llm_app(str(load_settings().home), llm=args.get("llm"), name=args.get("name", "llm"),
                   num_cpus=float(args.get("num_cpus", 0.0)),
                   num_gpus=float(args.get("num_gpus", 0.0)),
                   min_replicas=int(args.get("min_replicas", 1)),
                   max_replicas=int(args.get("max_replicas", 2)))
