"""A real Prometheus server for tests (Debian's `prometheus`), on 127.0.0.1, scraping the
targets it is given every second, with its data under .tmp/."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.process import ServerProcess


class PrometheusServer(ServerProcess):
    def __init__(self, root: Path, targets: list[str]) -> None:
        super().__init__("prometheus", root / "prometheus.log")
        self.root = root
        self.targets = targets
        self.binary = shutil.which("prometheus")
        self.url = ""

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        targets = ", ".join(f"'{t}'" for t in self.targets)
        (self.root / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: fleet-router\n    static_configs: [{{targets: [{targets}]}}]\n")
        self.url = f"http://127.0.0.1:{port}"
        self.launch([self.binary, f"--config.file={self.root / 'prometheus.yml'}",
                     f"--storage.tsdb.path={self.root / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200)
        return self.url
