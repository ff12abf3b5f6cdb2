"""The RAG app: `POST /ask` answers a question from a knowledge base (fleet.rag), streaming
the answer as Server-Sent Events:

    event: sources   data: [{source, snippet, score, ...}]   (empty: not in the base)
    event: token     data: {"text": "..."}                   (one per piece of the answer)
    event: done      data: {in_knowledge_base, latency_ms, usage, model}
    event: error     data: {"detail": "..."}                 (the model failed mid-answer)

With `"stream": false` it answers once, in the shape of rag_query's result.

Its language model is a setting, not code: by default it calls the LLM app of the same
installation (`llm_app: llm`, over its OpenAI-compatible API), so one loaded model serves
both and the backend behind it (local, vLLM, a URL) is chosen once in `llm:`. With
`llm_app: null` the replicas use the `llm:` settings themselves (or `llm: {...}` given here).

Who may ask: like a model endpoint, open to in-cluster callers unless
`serving.endpoint_tokens` names this app (or "*"), then only the listed identities' tokens.
"""

import json
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from ray import serve
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from fleet.errors import problem_body
from fleet.rag.query import QueryRequest
from fleet.serving.edge import EdgeSettings, guard

api = FastAPI(title="Fleet RAG", description="Answers from knowledge bases, with sources.")
log = logging.getLogger("fleet.rag.app")
EDGE = EdgeSettings()  # endpoint_tokens, body size and depth: fleet.serving.edge


class AskRequest(QueryRequest):
    stream: bool = True


# The helpers sit above the class: Serve pickles the ingress class by value (see llm.py).
def _problem(status: int, title: str, detail: str) -> JSONResponse:
    code = title.lower().replace(" ", "-")
    return JSONResponse(problem_body(status, code, title, detail),
                        status_code=status, media_type="application/problem+json")


def _render(status: int, title: str, detail: str, field: str | None) -> tuple[bytes, str]:
    errors = [{"field": field, "problem": "invalid", "fix": detail}] if field else None
    body = problem_body(status, title.lower().replace(" ", "-"), title, detail, errors)
    return json.dumps(body).encode(), "application/problem+json"


guard(api, EDGE, _render)


def _event(kind: str, data) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


@serve.ingress(api)
class RAGServer:
    def __init__(self, fleet_home: str, name: str = "rag", llm_app: str | None = "llm",
                 llm: dict | None = None) -> None:
        from fleet.config import load_settings, with_llm
        from fleet.llm.backends import OpenAIBackend
        from fleet.rag.query import Answerer
        from fleet.serving.apps import openai_url

        settings = with_llm(load_settings(Path(fleet_home)), llm)
        backend = None
        if llm_app:
            url, model = openai_url(settings, llm_app)
            backend = OpenAIBackend(url, model, None, settings.llm.request_timeout_s)
        self.answerer = Answerer(settings, backend)
        self.answerer.embed(["warm up"])  # load the embedding model now, not on a question
        EDGE.configure(settings, name)

    @api.post("/ask")
    async def ask(self, req: AskRequest):
        from fleet.errors import FleetError
        from fleet.llm.errors import BackendError

        try:
            if not req.stream:
                import dataclasses

                result = await run_in_threadpool(self.answerer.answer, req)
                return dataclasses.asdict(result)  # with the model that wrote it
            events = await run_in_threadpool(self.answerer.stream, req)
        except FleetError as exc:
            return _problem(exc.status, exc.title, exc.detail)
        except BackendError as exc:
            return _problem(502, "Bad gateway", str(exc))
        return StreamingResponse(self._events(events), media_type="text/event-stream")

    async def _events(self, events):
        from fleet.llm.errors import BackendError

        try:
            async for kind, data in iterate_in_threadpool(events):
                if kind == "token":
                    data = {"text": data}
                yield _event(kind, data)
        except BackendError as exc:
            yield _event("error", {"detail": str(exc)})
        except Exception:
            log.exception("a RAG answer failed")
            yield _event("error", {"detail": "The answer failed inside the RAG app; its log "
                                             "has the details."})


def rag_app(fleet_home: str, *, name: str = "rag", llm_app: str | None = "llm",
            llm: dict | None = None, num_cpus: float = 0.0, min_replicas: int = 1,
            max_replicas: int = 2):
    """num_cpus 0 by default: on a small machine a replica that holds a CPU share for good
    starves Ray Data's batch jobs; on a cluster, give it a real share."""
    deployment = serve.deployment(
        RAGServer, name="rag", max_ongoing_requests=16,
        ray_actor_options={"num_cpus": num_cpus},
        autoscaling_config={"min_replicas": min_replicas, "max_replicas": max_replicas,
                            "target_ongoing_requests": 2})
    return deployment.bind(fleet_home, name, llm_app, llm)


def build(args: dict):
    """The builder `serving.apps` calls. args: name (the app's name in serving.apps, for
    endpoint_tokens), llm_app (the LLM app to call; null for in-replica), llm, num_cpus,
    min_replicas, max_replicas."""
    from fleet.config import load_settings

    settings = load_settings()
    llm_app = args.get("llm_app", "llm")
    if llm_app:
        from fleet.serving.apps import openai_url

        openai_url(settings, llm_app)  # an unknown app is a configuration error: now
    return rag_app(str(settings.home), name=args.get("name", "rag"), llm_app=llm_app,
                   llm=args.get("llm"), num_cpus=float(args.get("num_cpus", 0.0)),
                   min_replicas=int(args.get("min_replicas", 1)),
                   max_replicas=int(args.get("max_replicas", 2)))
