"""cluster/kuberay's manifests, validated offline the way an API server would: the KubeRay
resources against KubeRay v1.7.0's published CRD schemas (../shared/kuberay-crds, with
unknown fields refused as `kubectl --validate=strict` does), the core ones with
kubernetes-validate; and what Fleet needs of them: token auth, requests and limits on every
container, secrets only by reference, the GPU and spot groups, settings Fleet can load."""

from __future__ import annotations

import functools
import gzip
import json
import shlex
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERAY = ROOT / "cluster" / "kuberay"
CRDS = ROOT.parent / "shared" / "kuberay-crds"
FIXTURE = ROOT / "tests" / "fixtures" / "kuberay-crds-v1.7.0.json.gz"
SECRETISH = ("SECRET", "TOKEN", "PASSWORD", "KEY", "STORE_URL")


def docs() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(KUBERAY.glob("*.yaml")):
        out += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def by_kind(kind: str) -> dict:
    (found,) = [d for _, d in docs() if d["kind"] == kind]
    return found


@functools.cache
def crd_schema(kind: str) -> dict:
    """The v1 schema from the published CRD in ../shared when this checkout has it, else
    from the copy in tests/fixtures (the same schemas, extracted, 29 kB gzipped)."""
    path = CRDS / f"ray.io_{kind.lower()}s.yaml"
    if path.exists():
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
        return v1["schema"]["openAPIV3Schema"]
    return json.loads(gzip.decompress(FIXTURE.read_bytes()))["schemas"][kind]


def unknown_fields(doc, schema, path="") -> list[str]:
    """Fields the schema does not name (an API server prunes them silently; strict
    validation refuses them): where a typo in a manifest would otherwise hide."""
    out = []
    if isinstance(doc, dict) and schema.get("type") == "object":
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return out
        for k, v in doc.items():
            if props is not None and k in props:
                out += unknown_fields(v, props[k], f"{path}.{k}")
            elif isinstance(extra, dict):
                out += unknown_fields(v, extra, f"{path}.{k}")
            elif props is not None and k not in ("apiVersion", "kind", "metadata"):
                out.append(f"{path}.{k}")
    elif isinstance(doc, list) and "items" in schema:
        for i, v in enumerate(doc):
            out += unknown_fields(v, schema["items"], f"{path}[{i}]")
    return out


def containers(doc) -> list[dict]:
    found = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "containers" and isinstance(v, list):
                    found.extend(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    return found


@pytest.mark.parametrize("kind", ["RayCluster", "RayService", "RayJob"])
def test_kuberay_resources_match_the_v1_7_crd_schemas_strictly(kind):
    doc = by_kind(kind)
    jsonschema.validate(doc, crd_schema(kind))
    assert unknown_fields(doc, crd_schema(kind)) == []


def test_the_strict_check_catches_a_misspelt_field():
    doc = by_kind("RayCluster")
    bad = {**doc, "spec": {**doc["spec"], "enableInTreeAutoscalling": True}}
    assert unknown_fields(bad, crd_schema("RayCluster")) == [".spec.enableInTreeAutoscalling"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "spec": {**doc["spec"], "authOptions": {"mode": "on"}}},
                            crd_schema("RayCluster"))


def test_core_resources_are_valid_kubernetes():
    version = kubernetes_validate.latest_version()
    core = [(n, d) for n, d in docs() if not d["apiVersion"].startswith("ray.io/")]
    assert {d["kind"] for _, d in core} >= {"ConfigMap", "NetworkPolicy"}
    for _, d in core:
        kubernetes_validate.validate(d, version, strict=True)  # raises with the field


def test_token_auth_resources_and_secrets_by_reference_only():
    for kind in ("RayCluster", "RayService"):
        doc = by_kind(kind)
        spec = doc["spec"] if kind == "RayCluster" else doc["spec"]["rayClusterConfig"]
        assert spec["authOptions"]["mode"] == "token", kind
        assert spec["enableInTreeAutoscaling"] is True
    for name, d in docs():
        for c in containers(d):
            res = c.get("resources", {})
            assert res.get("requests") and res.get("limits"), (name, c["name"])
            for env in c.get("env", []):
                if any(s in env["name"].upper() for s in SECRETISH):
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], (
                        name, env["name"])
    text = "".join(p.read_text() for p in KUBERAY.glob("*.yaml"))
    assert "runtimeEnv" not in text  # secrets never travel in runtime_env


def test_the_worker_groups_a_user_expects():
    groups = {g["groupName"]: g for g in by_kind("RayCluster")["spec"]["workerGroupSpecs"]}
    assert set(groups) == {"cpu", "gpu", "gpu-spot"}
    for name in ("gpu", "gpu-spot"):
        (c,) = groups[name]["template"]["spec"]["containers"]
        assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    spot = groups["gpu-spot"]["template"]["spec"]
    assert any(t["key"] == "fleet.dev/capacity" for t in spot["tolerations"])
    assert spot["nodeSelector"] and groups["gpu-spot"]["minReplicas"] == 0


def test_ray_version_settings_serve_apps_and_the_job_entrypoint_are_fleets_own(tmp_path,
                                                                            monkeypatch):
    from importlib.metadata import version

    from fleet.config import load_settings
    from fleet.runtime.payloads import parse_key_values
    from functions.training.train import TrainRequest

    assert by_kind("RayCluster")["spec"]["rayVersion"] == version("ray")
    (tmp_path / "fleet.yaml").write_text(by_kind("ConfigMap")["data"]["fleet.yaml"])
    monkeypatch.setenv("FLEET_HOME", str(tmp_path))  # the job's data under its data roots
    settings = load_settings(tmp_path)  # every key is one Fleet knows
    assert settings.artifacts.root.startswith("s3://") and settings.gateway.host == "0.0.0.0"
    head_service = f"{by_kind('RayCluster')['metadata']['name']}-head-svc"  # KubeRay's name
    assert settings.gateway.advertise_host == settings.serving.advertise_host == head_service
    serve = yaml.safe_load(by_kind("RayService")["spec"]["serveConfigV2"])
    for app in serve["applications"]:
        module, attr = app["import_path"].split(":")
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
        assert f"def {attr}(" in source, app["import_path"]
    words = shlex.split(by_kind("RayJob")["spec"]["entrypoint"])
    assert words[:4] == ["python", "-m", "fleet.jobs", "train"]
    TrainRequest.model_validate(parse_key_values(words[4:]))
