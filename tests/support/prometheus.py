"""A real Prometheus server for tests (Debian's `prometheus`), on 127.0.0.1, scraping the
targets it is given every second, with its data under .tmp/."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.support.postgres import free_port


class PrometheusServer:
    def __init__(self, root: Path, targets: list[str]) -> None:
        self.root = root
        self.targets = targets
        self.binary = shutil.which("prometheus")
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        targets = ", ".join(f"'{t}'" for t in self.targets)
        (self.root / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: fleet-router\n    static_configs: [{{targets: [{targets}]}}]\n")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={self.root / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.root / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=open(self.root / "prometheus.log", "wb"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("prometheus did not start: "
                           + (self.root / "prometheus.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
