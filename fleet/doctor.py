"""`fleet doctor`: what a first run needs, checked before it fails, each finding with its
fix (as `flutter doctor` and `brew doctor` print them). Every check is a function of the
settings that returns Findings; none of them changes anything but a scratch file it writes
to prove a folder is writable, and removes.

Checked: Python and the packages Fleet runs on; the weights each configured model needs
(the local LLM's package, the embedding model's); Ray's temp path length; the configured
ports (when Fleet is not up: a port in use stops `fleet up`); the store (opens, migrates,
its schema version); the artifact root and the data roots (writable); Prometheus, when a
rollout analysis uses it; and, when Fleet is up, its gateway."""

from __future__ import annotations

import importlib.metadata
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from fleet.config import Settings


@dataclass(frozen=True)
class Finding:
    """`ok`: True passed, False would fail (the fix says what to do), None not checked."""

    check: str
    ok: bool | None
    detail: str
    fix: str = ""

    def public(self) -> dict:
        return asdict(self)


def _python() -> list[Finding]:
    v = sys.version_info
    ok = v >= (3, 10)
    return [Finding("python", ok, f"Python {v.major}.{v.minor}.{v.micro}",
                    "" if ok else "Fleet needs Python 3.10 or newer.")]


def _packages() -> list[Finding]:
    out = []
    for dist in ("ray", "torch", "fastapi", "sqlalchemy", "chromadb"):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out.append(Finding(f"package {dist}", False, "not installed",
                               "Run `make setup` in the checkout (or pip install -e .)."))
            continue
        detail = f"{dist} {version}"
        if dist == "torch" and "+cu" in version:
            detail += " (a CUDA build: fine with a GPU, gigabytes without one)"
        out.append(Finding(f"package {dist}", True, detail))
    return out


def _weights(settings: Settings) -> list[Finding]:
    """The files the default apps load: a missing one fails the LLM or RAG app at start."""
    out = []
    llm = settings.llm
    if llm.backend == "local":
        from fleet.llm.local import packaged_gguf

        try:
            out.append(Finding("llm weights", True,
                               f"{llm.model}: {packaged_gguf(llm.model).name}"))
        except Exception as exc:  # DefinitionError: the message names the package and fix
            text = str(exc)
            detail, _, fix = text.partition(". ")
            out.append(Finding("llm weights", False, detail, fix or text))
    else:
        out.append(Finding("llm weights", None, f"backend {llm.backend}: served elsewhere"))
    emb = settings.rag.embedding
    if emb.provider == "sentence-transformers":
        from fleet.rag.embeddings import model_location

        try:
            out.append(Finding("embedding model", True,
                               f"{emb.model}: {model_location(emb.model)}"))
        except ValueError as exc:
            detail, _, fix = str(exc).partition(": pip")
            out.append(Finding("embedding model", False, detail,
                               f"pip{fix}" if fix else str(exc)))
    else:
        out.append(Finding("embedding model", None, f"provider {emb.provider}"))
    return out


def _ray_temp(settings: Settings) -> list[Finding]:
    from fleet.errors import FleetError
    from fleet.ray_paths import check_temp_dir, temp_dir

    path = temp_dir(settings)
    try:
        check_temp_dir(path)
    except FleetError as exc:
        return [Finding("ray temp dir", False, f"{path} ({len(path.encode())} bytes)",
                        exc.detail)]
    return [Finding("ray temp dir", True, f"{path} ({len(path.encode())} bytes)")]


def configured_ports(settings: Settings) -> dict[str, int]:
    return {"gateway.port": settings.gateway.port,
            "serving.router_port": settings.serving.router_port,
            "serving.serve_port": settings.serving.serve_port,
            "cluster.gcs_port": settings.cluster.gcs_port,
            "cluster.dashboard_port": settings.cluster.dashboard_port}


def _ports(settings: Settings, up: bool) -> list[Finding]:
    from fleet.ports import port_open

    if up:
        return [Finding("ports", None, "Fleet is up: the configured ports are its own")]
    out = []
    for key, port in configured_ports(settings).items():
        busy = port_open("127.0.0.1", port)
        out.append(Finding(f"port {key}", not busy, f"{port} {'in use' if busy else 'free'}",
                           f"Stop what listens on {port} (`ss -ltnp 'sport = :{port}'` "
                           f"names it), or set {key} in fleet.yaml to a free port."
                           if busy else ""))
    return out


def _store(settings: Settings) -> list[Finding]:
    from fleet.store import SCHEMA_VERSION, open_store

    url = settings.resolved_store_url
    shown = url.split("@")[-1] if "@" in url else url  # never a password
    try:
        store = open_store(url)
        version = store.schema_version
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        fix = ("Start PostgreSQL, or fix store_url in fleet.yaml (postgresql://user:pw@host/db)."
               if url.startswith("postgresql") else
               "Make the folder of the SQLite file writable, or set store_url in fleet.yaml.")
        return [Finding("store", False, f"{shown}: {first}", fix)]
    ok = version == SCHEMA_VERSION
    return [Finding("store", ok, f"{shown} (schema v{version})",
                    "" if ok else f"Schema v{version}, this Fleet needs v{SCHEMA_VERSION}: "
                                  "upgrade Fleet, or restore a backup made by this version.")]


def _writable(folder: Path) -> str | None:
    """Why `folder` cannot take a file (None: it can), creating it if it is missing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".fleet-doctor-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _roots(settings: Settings) -> list[Finding]:
    from fleet.artifacts import ArtifactStore, parse

    out = []
    roots = [("artifact root", settings.artifact_root)] + [
        ("data root", r) for r in settings.resolved_data_roots]
    for name, root in roots:
        u = parse(root)
        if u.scheme == "file":
            why = _writable(Path(u.path))
            out.append(Finding(name, why is None, f"{u.path}" + (f": {why}" if why else ""),
                               f"Make {u.path} a folder Fleet can write, or change "
                               f"{'artifacts.root' if name == 'artifact root' else 'data_roots'}"
                               " in fleet.yaml." if why else ""))
            continue
        try:
            ArtifactStore(settings).check_writable(root)
            out.append(Finding(name, True, root))
        except Exception as exc:
            out.append(Finding(name, False, f"{root}: {str(exc)[:300]}",
                               "Check the bucket, artifacts.s3_endpoint_url and the "
                               "credentials (artifacts.s3_* or AWS_* variables)."))
    return out


def _prometheus(settings: Settings) -> list[Finding]:
    from urllib.parse import urlsplit

    from fleet.ports import port_open

    url = settings.serving.prometheus_url
    if not url:
        return []
    u = urlsplit(url)
    ok = port_open(u.hostname or "127.0.0.1", u.port or 80)
    return [Finding("prometheus", ok, url, "" if ok else
                    "Start Prometheus there, or unset serving.prometheus_url (rollouts "
                    "then analyse the router's own counters).")]


def _running(settings: Settings) -> tuple[bool, list[Finding]]:
    """(whether this installation is up, its gateway's and every Serve app's findings)."""
    from fleet.cluster import ClusterInfo
    from fleet.processes import alive

    info = ClusterInfo.read(settings)
    if info is None or not info.gateway_url:
        return False, [Finding("fleet", None, "not up (`fleet up` starts it)")]
    if not alive(info.gateway_pid):
        return False, [Finding("fleet", None, "not up (the run file of a stopped Fleet is "
                                              "left; `fleet up` starts it)")]
    import httpx

    try:
        r = httpx.get(f"{info.gateway_url}/healthz", timeout=5)
        ok = r.status_code == 200
    except httpx.HTTPError as exc:
        ok, r = False, exc
    out = [Finding("gateway", ok, info.gateway_url + ("" if ok else f": {r}"),
                   "" if ok else "See logs/server.log under FLEET_HOME; `fleet down` "
                                 "then `fleet up` restarts it.")]
    from fleet.serving import app_states

    for name, a in app_states.current(settings, info.gateway_pid).items():
        out.append(Finding(f"app {name}", {app_states.RUNNING: True,
                                            app_states.FAILED: False}.get(a.state),
                           a.state + (f": {a.reason}" if a.reason else ""), a.fix))
    return True, out


def diagnose(settings: Settings) -> list[Finding]:
    """Every check, in the order a first run meets them."""
    up, running = _running(settings)
    return [*_python(), *_packages(), *_weights(settings), *_ray_temp(settings),
            *_ports(settings, up), *_store(settings), *_roots(settings),
            *_prometheus(settings), *running]


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.ok is False]


__all__ = ["Finding", "configured_ports", "diagnose", "failed"]
