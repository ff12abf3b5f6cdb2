"""A real Chroma server for tests (`chroma run`, the CLI in the chromadb wheel), on
127.0.0.1 with its data under .tmp/: what `rag.chroma_url` points a cluster at."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.postgres import free_port


class ChromaServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        port = free_port()
        self.proc = subprocess.Popen(
            [binary, "run", "--path", str(self.root / "data"), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=open(self.root / "chroma.log", "wb"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("chroma did not start: "
                           + (self.root / "chroma.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
