"""One interface in front of every language model the LLM app can serve.

A backend streams the text of an answer, to chat `messages` or to a raw `prompt`, and fills
in a Usage. Three here:
- `local`: fleet.llm.local, a model that ships in a package, on CPU;
- `openai`: any OpenAI-compatible server (vLLM, Ollama, TGI, another Fleet) at a URL, its
  key read from the variable `llm.api_key_env` names;
- `vllm`: fleet.llm.vllm_engine, vLLM's engine on the replica's GPU (the `gpu` extra).
Which one is a setting (`llm.backend`); the apps above (the LLM app, RAG) never know.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Protocol

from fleet.config import Settings, bearer_from_env
from fleet.llm.errors import BackendError
from fleet.llm.local import LocalChat, Usage


class Backend(Protocol):
    model: str

    def stream(self, *, messages: list[dict] | None = None, prompt: str | None = None,
               max_tokens: int, temperature: float, stop: list[str] | None,
               usage: Usage) -> Iterator[str]: ...


class LocalBackend:
    def __init__(self, model: str, cache: os.PathLike) -> None:
        self.model = model
        self._chat = LocalChat(model, cache)

    def stream(self, **kw) -> Iterator[str]:
        return self._chat.stream(**kw)


def _said(r) -> str:
    """What a refusing server said: a problem's or an OpenAI error's message (a failed
    Fleet app's stand-in names the app, the reason and the fix there), else the body's
    start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:300]
    if isinstance(body, dict):
        err = body.get("error")
        said = body.get("detail") or (err.get("message") if isinstance(err, dict) else None)
        if isinstance(said, str):
            return said
    return r.text[:300]


class OpenAIBackend:
    def __init__(self, url: str, model: str, api_key_env: str | None,
                 timeout_s: float) -> None:
        self.url, self.model = url.rstrip("/"), model
        self._key_env, self._timeout = api_key_env, timeout_s

    def _headers(self) -> dict:
        try:
            return bearer_from_env("llm.api_key_env", self._key_env)
        except ValueError as exc:
            raise BackendError(str(exc)) from None

    def stream(self, *, messages=None, prompt=None, max_tokens: int, temperature: float,
               stop=None, usage: Usage) -> Iterator[str]:
        import httpx

        chat = messages is not None
        body = {"model": self.model, "stream": True, "max_tokens": max_tokens,
                "temperature": temperature, "stream_options": {"include_usage": True},
                **({"messages": messages} if chat else {"prompt": prompt or ""}),
                **({"stop": stop} if stop else {})}
        path = "/chat/completions" if chat else "/completions"
        try:
            with httpx.stream("POST", self.url + path, json=body, headers=self._headers(),
                              timeout=self._timeout) as r:
                if r.status_code != 200:
                    r.read()
                    raise BackendError(f"the model server at {self.url} answered "
                                       f"{r.status_code}: {_said(r)}")
                for line in r.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("usage"):
                        usage.prompt_tokens = chunk["usage"].get("prompt_tokens", 0)
                        usage.completion_tokens = chunk["usage"].get("completion_tokens", 0)
                    for choice in chunk.get("choices", []):
                        text = (choice.get("delta") or {}).get("content") if chat \
                            else choice.get("text")
                        if text:
                            yield text
        except httpx.HTTPError as exc:
            raise BackendError(f"the model server at {self.url} could not be reached "
                               f"({type(exc).__name__})") from None


def backend_for(settings: Settings) -> Backend:
    cfg = settings.llm
    if cfg.backend == "openai":
        return OpenAIBackend(cfg.url or "", cfg.model, cfg.api_key_env, cfg.request_timeout_s)
    if cfg.backend == "vllm":
        from fleet.llm.vllm_engine import VLLMBackend

        return VLLMBackend(cfg.model, **cfg.vllm_args)
    return LocalBackend(cfg.model, settings.model_cache)


__all__ = ["Backend", "BackendError", "LocalBackend", "OpenAIBackend", "backend_for"]
