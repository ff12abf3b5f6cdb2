"""vLLM on GPU, in the replica's own process: the `vllm` backend (`pip install
'fleet[gpu]'`). vLLM batches concurrent requests on the GPU (continuous batching), so one
replica serves many callers at once, where LocalChat decodes one request at a time.

vLLM's engine is asynchronous; Fleet's backend interface is a plain iterator (the LLM app
runs it in a thread pool, LangChain's chat model iterates it). So the engine lives on an
event loop of its own thread, and each `stream` call hands its pieces over through a queue.
A caller that stops reading (a client gone) aborts its request in the engine.

No Fleet imports beyond fleet.llm.errors: bench/gpu_llm.py drives this class on a GPU
machine without Ray.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import uuid
from collections.abc import Iterator

from fleet.llm.errors import BackendError, ContextLengthExceeded

MISSING = ("The vllm backend needs vLLM, which runs on NVIDIA GPUs and is not part of the "
           "default install: pip install 'fleet[gpu]' on a machine with a GPU, or set "
           "llm.backend to local or openai.")


class VLLMBackend:
    def __init__(self, model: str, **engine_args) -> None:
        """`model`: a Hugging Face model id (in the local cache) or a model folder;
        `engine_args`: vLLM's AsyncEngineArgs (max_model_len, gpu_memory_utilization,
        dtype, tensor_parallel_size...), from llm.vllm_args."""
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine
        except ImportError:
            raise BackendError(MISSING) from None
        from transformers import AutoTokenizer

        self.model = model
        self._tokenizer = AutoTokenizer.from_pretrained(model)
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, name="vllm-engine-loop",
                         daemon=True).start()

        async def start():  # the engine binds to the loop it is made on
            return AsyncLLMEngine.from_engine_args(AsyncEngineArgs(model=model, **engine_args))

        self._engine = asyncio.run_coroutine_threadsafe(start(), self._loop).result()

    def stream(self, *, messages: list[dict] | None = None, prompt: str | None = None,
               max_tokens: int, temperature: float, stop: list[str] | None,
               usage) -> Iterator[str]:
        from vllm import SamplingParams

        if messages is not None:
            prompt = self._tokenizer.apply_chat_template(messages, tokenize=False,
                                                         add_generation_prompt=True)
        params = SamplingParams(max_tokens=max_tokens, temperature=temperature,
                                stop=list(stop) if stop else None)
        rid, pieces = uuid.uuid4().hex, queue.Queue()

        async def run() -> None:
            sent = 0
            try:
                async for out in self._engine.generate(prompt or "", params, rid):
                    done = out.outputs[0]
                    usage.prompt_tokens = len(out.prompt_token_ids or [])
                    usage.completion_tokens = len(done.token_ids)
                    if len(done.text) > sent:
                        pieces.put(("text", done.text[sent:]))
                        sent = len(done.text)
                pieces.put(("end", None))
            except Exception as exc:  # handed to the reader, who raises it
                pieces.put(("error", exc))

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            while True:
                kind, value = pieces.get()
                if kind == "end":
                    return
                if kind == "error":
                    text = str(value)
                    if "maximum model length" in text or "longer than" in text:
                        raise ContextLengthExceeded(text)
                    raise BackendError(f"vLLM could not answer ({type(value).__name__}: "
                                       f"{text[:300]})")
                yield value
        finally:
            if not future.done():
                asyncio.run_coroutine_threadsafe(self._engine.abort(rid), self._loop)


__all__ = ["MISSING", "VLLMBackend"]
