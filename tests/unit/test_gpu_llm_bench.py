"""bench/gpu_llm.py runs where the GPU machines are: torch and transformers, no Ray and no
Fleet dependencies. Without a GPU it says so and exits 2; with --allow-cpu it drives the
transformers backend class here, with Fleet's other dependencies made unimportable."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fleet.llm import converted
from tests.conftest import ROOT, TMP

# Fleet's own dependencies that transformers does not bring (it brings yaml and httpx).
BLOCKED = ("ray", "sqlalchemy", "fastapi", "pydantic_settings", "chromadb", "langchain_core",
           "typer", "boto3", "psycopg", "slack_bolt")
RUN = ("import runpy, sys\n"
       f"for name in {BLOCKED!r}:\n"
       "    sys.modules[name] = None  # import fails, as where these are not installed\n"
       "sys.argv = ['gpu_llm.py', *sys.argv[1:]]\n"
       f"runpy.run_path({str(ROOT / 'bench' / 'gpu_llm.py')!r}, run_name='__main__')\n")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True,
                          timeout=600, cwd=TMP, env={"PATH": "/usr/bin:/bin",
                                                     "CUDA_VISIBLE_DEVICES": ""})


def test_without_a_gpu_it_says_so_and_exits_2():
    done = run("--model", "anything")
    assert done.returncode == 2, done.stderr
    assert "no CUDA GPU here" in done.stderr and "--allow-cpu" in done.stderr


@pytest.mark.slow  # a real CPU run of the model: 97-156 s on 2 cores
def test_it_measures_the_transformers_backend_without_ray_or_fleets_dependencies(tmp_path):
    folder = converted("SmolLM2-135M-Instruct", TMP / "models")
    out = tmp_path / "result.json"
    done = run("--model", str(folder), "--allow-cpu", "--max-tokens", "6", "--requests", "4",
               "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    runs = result["backends"]["transformers"]["runs"]
    assert [r["concurrency"] for r in runs] == [1, 16]
    assert all(r["tokens"] > 0 and r["tokens_per_s"] > 0 for r in runs)
    assert result["vllm"] == "not installed"
