"""The demo's knowledge-base story: Fleet's own docs ingested into a knowledge base, then a
question about Fleet answered by the RAG app (which calls the LLM app), with its sources."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from fleet.cli.rag import print_answer, wait_for_app
from fleet.serving.app_states import FAILED
from fleet.serving.apps import app_url, wait_serving

console = Console(highlight=False)
QUESTION = "Where does Fleet keep its SQLite database and the file with cluster addresses?"


def _docs(target: Path) -> int:
    """Copy README.md and docs/*.md of this checkout under the data root (the default roots
    do not reach the repository). 0 when Fleet runs from an installed wheel without them."""
    root = Path(__file__).resolve().parents[3]  # fleet/cli/demo/rag.py
    found = [p for p in [root / "README.md", *sorted((root / "docs").glob("*.md"))]
             if p.is_file()]
    target.mkdir(parents=True, exist_ok=True)
    for p in found:
        shutil.copy(p, target / p.name)
    return len(found)


def knowledge_story(client, step) -> None:
    settings = client.settings
    step(17, "a knowledge base of Fleet's own docs (rag_ingest), then a question (RAG app)")
    docs = settings.home / "data" / "demo" / "docs"
    if not _docs(docs):
        console.print("  (this installation has no docs folder to ingest: skipped)")
        return
    inv = client.invoke("rag_ingest", {"knowledge_base": "fleet-docs", "source": str(docs)},
                        caller="demo", via="python", wait=False)
    while not (inv := client.get(inv.id)).done:
        time.sleep(0.5)
    if inv.result is None:
        console.print(f"  [red]rag_ingest {inv.status.value}:[/] {inv.error_message}")
        return
    r = inv.result
    console.print(f"  {r['files']} files -> {r['chunks_total']} chunks in 'fleet-docs' "
                  f"({r['added']} added, {r['unchanged']} unchanged) in {r['seconds']:.1f} s")
    state = wait_for_app(settings, "rag")
    if state is not None and state.state == FAILED:
        console.print(f"  [red]the RAG app did not start:[/] {escape(state.reason)}\n"
                      f"  fix: {escape(state.fix)}")
        return
    if not wait_serving(app_url(settings, "rag") + "/ask", timeout_s=30):
        console.print("  [red]the RAG app does not answer[/]: see `fleet status` and "
                      "logs/server.log")
        return
    console.print(f"  $ fleet ask \"{QUESTION}\" --kb fleet-docs")
    print_answer(settings, QUESTION, "fleet-docs")
