"""A real Prometheus server for tests (Debian's `prometheus`), on 127.0.0.1, scraping the
targets it is given every second, with its data under .tmp/."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from tests.support.postgres import free_port
from tests.support.process import ServerProcess


class PrometheusServer(ServerProcess):
    def __init__(self, root: Path, jobs: dict[str, list[str]],
                 rules: list[Path] | None = None) -> None:
        super().__init__("prometheus", root / "prometheus.log")
        self.root = root
        self.jobs = jobs  # job name -> host:port targets
        self.rules = rules or []
        self.binary = shutil.which("prometheus")
        self.url = ""

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = ["global: {scrape_interval: 1s, evaluation_interval: 1s}"]
        if self.rules:
            config += ["rule_files:", *(f"  - '{r}'" for r in self.rules)]
        config.append("scrape_configs:")
        for job, targets in self.jobs.items():
            listed = ", ".join(f"'{t}'" for t in targets)
            config.append(f"  - job_name: {job}\n    static_configs: [{{targets: [{listed}]}}]")
        (self.root / "prometheus.yml").write_text("\n".join(config) + "\n")
        self.url = f"http://127.0.0.1:{port}"
        self.launch([self.binary, f"--config.file={self.root / 'prometheus.yml'}",
                     f"--storage.tsdb.path={self.root / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}"],
                    lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200)
        return self.url
