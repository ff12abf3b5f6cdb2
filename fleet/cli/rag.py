"""`fleet ingest` and `fleet ask`: knowledge bases from the command line.

`ingest` runs the rag_ingest function (a recorded invocation, like `fleet invoke`) and shows
its progress as files and chunks are done. `ask` asks the RAG app (serving.apps, at
/rag/ask by default) and prints the answer as it streams, then the sources it came from.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from fleet import messages
from fleet.cli import render
from fleet.cli.common import TOKEN_OPT, acting
from fleet.errors import FieldProblem, FleetError, InvalidInput

KB_OPT = typer.Option("docs", "--kb", help="The knowledge base (one Chroma collection).")


def _location(path: str) -> str:
    """A URI as given; a local path made absolute (the function runs elsewhere)."""
    return path if "://" in path else str(Path(path).expanduser().resolve())


def ingest(path: str = typer.Argument(..., help="A file, folder or s3:// prefix under a data "
                                               "root: markdown, text, HTML, PDF."),
           kb: str = KB_OPT,
           chunk_size: Optional[int] = typer.Option(None, "--chunk-size"),
           chunk_overlap: Optional[int] = typer.Option(None, "--chunk-overlap"),
           json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
           token: Optional[str] = TOKEN_OPT) -> None:
    """Ingest documents into a knowledge base; again to bring it up to date."""
    svc, who = acting(token)
    payload = {"knowledge_base": kb, "source": _location(path),
               **({"chunk_size": chunk_size} if chunk_size else {}),
               **({"chunk_overlap": chunk_overlap} if chunk_overlap is not None else {})}
    inv = svc.invocations.invoke(who, "rag_ingest", payload, via="cli", wait=False)
    with render.err_console.status(f"ingesting into '{kb}'") as spinner:
        while not (inv := svc.invocations.get(who, inv.id)).done:
            p = inv.progress or {}
            if p.get("files_total") is not None:
                spinner.update(f"ingesting into '{kb}': {p.get('files_done', 0)}/"
                               f"{p['files_total']} files, {p.get('chunks_written', 0)} "
                               f"chunks written")
            time.sleep(0.3)
    rec = inv.public()
    if json_out:
        render.as_json(rec)
    elif rec["status"] != "succeeded":
        render.invocation(rec)
    else:
        r = rec["result"]
        render.console.print(messages.RAG_INGESTED.format(kb=kb, **r), highlight=False)
        for s in r["skipped"]:
            render.console.print(f"  skipped {s['file']}: {s['reason']}", highlight=False)
    if rec["status"] != "succeeded":
        raise typer.Exit(1)


def ask(question: str = typer.Argument(..., help="The question, in quotes."),
        kb: str = KB_OPT,
        k: int = typer.Option(4, "--k", help="Passages given to the model."),
        mmr: bool = typer.Option(False, "--mmr", help="Diverse passages (MMR) instead of the "
                                                      "nearest."),
        max_tokens: Optional[int] = typer.Option(None, "--max-tokens"),
        answer: Optional[str] = typer.Option(
            None, "--answer", metavar="extractive|generate",
            help="extractive: the sources' own sentences; generate: the LLM app writes it. "
                 "Default: rag.answer."),
        app_name: str = typer.Option("rag", "--app", help="The RAG app's name in "
                                                           "serving.apps."),
        token: Optional[str] = TOKEN_OPT) -> None:
    """Ask a knowledge base a question: the answer streams, then its sources. A RAG app
    that is still starting is waited for (up to two minutes)."""
    from fleet.config import load_settings

    print_answer(load_settings(), question, kb, k=k, mmr=mmr, max_tokens=max_tokens,
                 app_name=app_name, token=token, answer=answer)


ASK_WAIT_S = 120  # how long `fleet ask` waits for a RAG app that is still starting


def wait_for_app(settings, name: str, timeout_s: float = ASK_WAIT_S):
    """App `name`'s state once it is no longer starting (it serves, or it failed and its
    route answers with the reason), or at `timeout_s`; says that it waits. None when this
    installation is not up, or `name` is not in serving.apps."""
    from fleet.cluster import ClusterInfo
    from fleet.serving import app_states

    info = ClusterInfo.read(settings)
    if info is None or not info.gateway_pid:
        return None
    state = app_states.current(settings, info.gateway_pid).get(name)
    if state is not None and state.state == app_states.STARTING:
        render.err_console.print(messages.RAG_APP_STARTING.format(name=name,
                                                                  seconds=timeout_s))
        state = app_states.wait(settings, info.gateway_pid, timeout_s, names=[name])[name]
    return state


def print_answer(settings, question: str, kb: str, *, k: int = 4, mmr: bool = False,
                 max_tokens: int | None = None, app_name: str = "rag",
                 token: str | None = None, answer: str | None = None) -> dict:
    """Ask the RAG app and print the answer as it streams, then its sources and the latency
    breakdown (on stderr); returns the `done` event."""
    import httpx

    from fleet import lifecycle
    from fleet.serving.apps import app_url

    url = app_url(settings, app_name) + "/ask"  # refuses a name not in serving.apps
    wait_for_app(settings, app_name)
    body = {"knowledge_base": kb, "question": question, "stream": True,
            "search": {"search": "mmr" if mmr else "hybrid", "k": k,
                       "fetch_k": max(20, k)},
            **({"max_tokens": max_tokens} if max_tokens else {}),
            **({"answer": answer} if answer else {})}
    bearer = token or lifecycle.admin_token(settings)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    sources: list[dict] = []
    done: dict = {}
    try:
        with httpx.stream("POST", url, json=body, headers=headers,
                          timeout=httpx.Timeout(10, read=settings.llm.request_timeout_s)) as r:
            if r.status_code != 200:
                _refusal(r, url)
            for kind, data in _events(r):
                if kind == "sources":
                    sources = data
                elif kind == "token":
                    render.console.print(data["text"], end="", highlight=False, markup=False,
                                         soft_wrap=True)
                elif kind == "error":
                    raise FleetError(data["detail"])
                elif kind == "done":
                    done = data
    except httpx.TransportError as exc:
        raise FleetError(messages.RAG_APP_UNAVAILABLE.format(
            url=url, reason=type(exc).__name__)) from None
    render.console.print()
    if sources:
        render.console.print("[bold]sources[/]")
        for i, s in enumerate(sources, start=1):
            where = s["source"] + (f" p.{s['page']}" if s.get("page") else "")
            render.console.print(f"  [{i}] {where}  (score {s['score']:.2f})", highlight=False,
                                 markup=False)
    ms = done.get("latency_ms", {})
    if ms:
        render.err_console.print(
            f"embed {ms.get('embed_ms', 0):.0f} ms, retrieve {ms.get('retrieve_ms', 0):.0f} ms, "
            f"generate {ms.get('generate_ms', 0):.0f} ms ({done.get('model', '?')})",
            highlight=False)
    return done


def _events(r):
    """(event, data) pairs of a Server-Sent Events response."""
    kind = "message"
    for line in r.iter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            yield kind, json.loads(line[5:].strip())
            kind = "message"


def _refusal(r, url: str) -> None:
    r.read()
    try:
        problem = r.json()
    except ValueError:
        problem = {}
    if r.status_code == 404 and "detail" not in problem:  # Serve: no app at that route
        raise FleetError(messages.RAG_APP_UNAVAILABLE.format(url=url, reason="404"))
    if r.status_code == 422 and isinstance(problem.get("detail"), list):
        raise InvalidInput(messages.RAG_ASK_INVALID, [
            FieldProblem(".".join(str(p) for p in e["loc"][1:]), e["msg"])
            for e in problem["detail"]])
    detail = problem.get("detail") or r.text[:300]
    raise FleetError(str(detail), status=r.status_code)
