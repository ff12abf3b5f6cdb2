"""A LangChain chat model over a Fleet backend, so LCEL chains (`prompt | model | parser`)
run on whichever backend `llm:` configures, and stream token by token.

Usage of the last call is kept on the model (`last_usage`): LangChain's usage metadata is
per message, and a chain's caller (rag_query) wants it in its own report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from fleet.llm.local import Usage

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class FleetChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    backend: Any
    max_tokens: int = 256
    temperature: float = 0.0
    last_usage: Usage | None = None

    @property
    def _llm_type(self) -> str:
        return "fleet"

    def _messages(self, messages: list[BaseMessage]) -> list[dict]:
        return [{"role": ROLES.get(m.type, "user"), "content": str(m.content)}
                for m in messages]

    def _pieces(self, messages: list[BaseMessage], stop: list[str] | None) -> Iterator[str]:
        self.last_usage = Usage()
        return self.backend.stream(messages=self._messages(messages), max_tokens=self.max_tokens,
                                   temperature=self.temperature, stop=stop,
                                   usage=self.last_usage)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = "".join(self._pieces(messages, stop))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages, stop=None, run_manager=None,
                **kwargs) -> Iterator[ChatGenerationChunk]:
        for piece in self._pieces(messages, stop):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


__all__ = ["FleetChatModel"]
