"""A real Chroma server for tests (`chroma run`, the CLI in the chromadb wheel), on
127.0.0.1 with its data under .tmp/: what `rag.chroma_url` points a cluster at."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.process import ServerProcess


class ChromaServer(ServerProcess):
    def __init__(self, root: Path) -> None:
        super().__init__("chroma", root / "chroma.log")
        self.root, self.url = root, ""

    def start(self) -> str:
        binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.launch([binary, "run", "--path", str(self.root / "data"), "--host", "127.0.0.1",
                     "--port", str(port)],
                    lambda: httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).is_success)
        return self.url
