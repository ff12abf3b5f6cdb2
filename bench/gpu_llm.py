"""bench/gpu_llm: tokens/s of Fleet's LLM backend classes on a GPU, at 1 and 16 concurrent
requests: the transformers backend (fleet.llm.local.LocalChat) and vLLM
(fleet.llm.vllm_engine.VLLMBackend) where it is installed.

    python bench/gpu_llm.py --model /path/to/a/transformers/model [--max-tokens 128]
                            [--requests 32] [--out result.json]

It runs without Ray and without the rest of Fleet: the GPU machines this is for have torch,
transformers and accelerate, but Ray's wheel (79 MB) is larger than what one transfer there
carries (64 MiB). A bare package object stands in for `fleet`, so importing
fleet.llm.local loads that module and the two plain ones it names (fleet.messages,
fleet.errors), never fleet/__init__.py (which imports Ray).

--model: a folder in transformers' format (e.g. what Fleet converted under
FLEET_HOME/models/SmolLM2-135M-Instruct), or a model name in the local Hugging Face cache
(no network is used). Without a GPU it exits with status 2 and says so; --allow-cpu runs it
on CPU anyway (how its own test checks it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPTS = ["Explain what a {} is to a new engineer.", "Write a short story about a {}.",
           "List five facts about a {}.", "Describe how to repair a {}."]
THINGS = ["lighthouse", "compiler", "glacier", "violin", "satellite", "bakery", "river",
          "database"]


def load_fleet_llm():
    """fleet.llm's backend modules, without fleet/__init__.py and so without Ray."""
    if "fleet" not in sys.modules:
        package = types.ModuleType("fleet")
        package.__path__ = [str(ROOT / "fleet")]
        sys.modules["fleet"] = package
    from fleet.llm.local import LocalChat, Usage

    return LocalChat, Usage


def measure(backend, usage_cls, concurrency: int, requests: int, max_tokens: int) -> dict:
    """`requests` chat requests, `concurrency` at a time: generated tokens/s over the wall
    time, and each request's time to first token."""

    def one(i: int) -> tuple[int, float]:
        usage = usage_cls()
        prompt = PROMPTS[i % len(PROMPTS)].format(THINGS[i % len(THINGS)])
        started, first = time.perf_counter(), None
        for _ in backend.stream(messages=[{"role": "user", "content": prompt}],
                                max_tokens=max_tokens, temperature=0.0, stop=None,
                                usage=usage):
            first = first or time.perf_counter() - started
        return usage.completion_tokens, first or 0.0

    list(ThreadPoolExecutor(1).map(one, range(1)))  # warm-up: kernels, caches
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    tokens = sum(t for t, _ in done)
    ttft = sorted(f for _, f in done)
    return {"concurrency": concurrency, "requests": requests, "tokens": tokens,
            "seconds": round(wall, 3), "tokens_per_s": round(tokens / wall, 1),
            "ttft_p50_ms": round(statistics.median(ttft) * 1000, 1),
            "ttft_max_ms": round(ttft[-1] * 1000, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="Model folder or cached model name.")
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--requests", type=int, default=32, help="Requests at concurrency 16 "
                                                             "(at 1: a quarter of them).")
    ap.add_argument("--allow-cpu", action="store_true", help="Run without a GPU.")
    ap.add_argument("--out", type=Path, help="Also write the results here as JSON.")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("bench/gpu_llm needs torch, transformers and accelerate: pip install torch "
              "transformers accelerate", file=sys.stderr)
        return 2
    gpu = torch.cuda.is_available()
    if not gpu and not args.allow_cpu:
        print("bench/gpu_llm: no CUDA GPU here (torch.cuda.is_available() is False), so "
              "there is nothing to measure. Run it on a machine with an NVIDIA GPU, or pass "
              "--allow-cpu to check it on CPU.", file=sys.stderr)
        return 2
    device = "cuda" if gpu else "cpu"
    LocalChat, Usage = load_fleet_llm()
    results: dict = {"device": torch.cuda.get_device_name(0) if gpu else "cpu",
                     "model": args.model, "max_tokens": args.max_tokens, "backends": {}}
    backends = [("transformers", lambda: LocalChat(args.model, None, device=device))]
    try:
        import vllm  # noqa: F401

        from fleet.llm.vllm_engine import VLLMBackend

        backends.append(("vllm", lambda: VLLMBackend(args.model, gpu_memory_utilization=0.6)))
    except ImportError:
        results["vllm"] = "not installed"
    for name, make in backends:
        started = time.perf_counter()
        backend = make()
        load_s = round(time.perf_counter() - started, 1)
        runs = [measure(backend, Usage, 1, max(2, args.requests // 4), args.max_tokens),
                measure(backend, Usage, 16, args.requests, args.max_tokens)]
        results["backends"][name] = {"load_s": load_s, "runs": runs,
                                     "c16_over_c1": round(runs[1]["tokens_per_s"]
                                                          / runs[0]["tokens_per_s"], 2)}
        for r in runs:
            print(f"{name:12} c={r['concurrency']:<3} {r['tokens_per_s']:8.1f} tok/s  "
                  f"ttft p50 {r['ttft_p50_ms']:7.1f} ms  ({r['tokens']} tokens, "
                  f"{r['seconds']} s)", flush=True)
        del backend
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
