"""Language models behind an OpenAI-compatible API: a local CPU model from a package."""

from fleet.llm.local import LocalChat, Usage, converted, packaged_gguf

__all__ = ["LocalChat", "Usage", "converted", "packaged_gguf"]
