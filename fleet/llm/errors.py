"""What a language-model backend raises on purpose. Plain exceptions with no Fleet imports:
the backends load on a GPU machine that has torch and transformers but not Ray (see
bench/gpu_llm.py)."""


class BackendError(Exception):
    """The model could not answer; the message says why, without internals."""


class ContextLengthExceeded(ValueError):
    """The prompt and the tokens asked for do not fit the model's context window."""


__all__ = ["BackendError", "ContextLengthExceeded"]
