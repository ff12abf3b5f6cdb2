"""The LLM app on the suite's Serve: OpenAI-compatible chat and completions from the local
SmolLM2 model, streamed as Server-Sent Events, a second app that forwards to the first over
HTTP (the openai backend), and the metrics Ray exports for Prometheus."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.integration.conftest import wait_until

ASK = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]


@pytest.fixture(scope="module")
def llm(client):
    """The LLM app the suite's fleet.yaml lists (started by the Fleet server), and a second
    app that forwards to it over HTTP (the openai backend)."""
    from ray import serve

    from serve_apps.llm import llm_app

    home, port = str(client.settings.home), client.settings.serving.serve_port
    local = f"http://127.0.0.1:{port}/llm/v1"
    wait_until(lambda: _up(f"{local}/models"), timeout_s=240, every_s=1)
    serve.run(llm_app(home, max_replicas=1,
                      llm={"backend": "openai", "url": local,
                           "model": "SmolLM2-135M-Instruct"}),
              name="llm-proxy-it", route_prefix="/llm-proxy-it")
    yield local, f"http://127.0.0.1:{port}/llm-proxy-it/v1"
    serve.delete("llm-proxy-it")


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def events(r: httpx.Response) -> list:
    out = []
    for line in r.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_models_and_a_chat_answer(llm):
    local, _ = llm
    models = httpx.get(f"{local}/models", timeout=30).json()
    assert [m["id"] for m in models["data"]] == ["SmolLM2-135M-Instruct"]
    r = httpx.post(f"{local}/chat/completions", timeout=120,
                   json={"model": "SmolLM2-135M-Instruct", "messages": ASK, "max_tokens": 24})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "Paris" in body["choices"][0]["message"]["content"]
    assert body["choices"][0]["finish_reason"] in ("stop", "length")
    assert body["usage"]["completion_tokens"] > 0
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + \
        body["usage"]["completion_tokens"]


def test_a_streamed_chat_arrives_in_events_and_ends_with_done(llm):
    local, _ = llm
    with httpx.stream("POST", f"{local}/chat/completions", timeout=120,
                      json={"messages": ASK, "max_tokens": 24, "stream": True,
                            "stream_options": {"include_usage": True}}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        got = events(r)
    assert got[-1] == "[DONE]"
    chunks = [e for e in got[:-1] if e["choices"]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "Paris" in text and len(chunks) >= 4  # role, several pieces, the finish
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert got[-2]["usage"]["completion_tokens"] > 0  # include_usage: the last chunk


def test_a_completion_and_its_stop_string(llm):
    local, _ = llm
    r = httpx.post(f"{local}/completions", timeout=120,
                   json={"prompt": "1, 2, 3, 4, 5, 6,", "max_tokens": 20, "stop": [" 9"]})
    text = r.json()["choices"][0]["text"]
    assert text.startswith(" 7, 8") and "9" not in text


def test_the_openai_backend_forwards_to_another_server(llm):
    local, proxy = llm
    direct = httpx.post(f"{local}/chat/completions", timeout=120,
                        json={"messages": ASK, "max_tokens": 24}).json()
    via = httpx.post(f"{proxy}/chat/completions", timeout=120,
                     json={"messages": ASK, "max_tokens": 24}).json()
    assert via["choices"][0]["message"]["content"] == \
        direct["choices"][0]["message"]["content"]  # greedy decoding: the same answer
    assert via["usage"]["completion_tokens"] == direct["usage"]["completion_tokens"]
    with httpx.stream("POST", f"{proxy}/chat/completions", timeout=120,
                      json={"messages": ASK, "max_tokens": 24, "stream": True}) as r:
        got = events(r)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in got[:-1]
                   if e["choices"])
    assert text == direct["choices"][0]["message"]["content"]


def test_the_official_openai_client_gets_completions_streamed_and_not(llm):
    import openai

    local, _ = llm
    client = openai.OpenAI(base_url=local, api_key="not-checked", max_retries=0)
    model = client.models.list().data[0].id
    chat = client.chat.completions.create(model=model, messages=ASK, max_tokens=24)
    assert "Paris" in chat.choices[0].message.content
    assert chat.usage.completion_tokens > 0
    stream = client.chat.completions.create(model=model, messages=ASK, max_tokens=24,
                                            stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == \
        chat.choices[0].message.content
    done = client.completions.create(model=model, prompt="1, 2, 3, 4, 5, 6,", max_tokens=6)
    assert done.choices[0].text.startswith(" 7, 8")
    pieces = [c.choices[0].text for c in client.completions.create(
        model=model, prompt="1, 2, 3, 4, 5, 6,", max_tokens=6, stream=True) if c.choices]
    assert len(pieces) > 1 and "".join(pieces) == done.choices[0].text
    with pytest.raises(openai.NotFoundError, match="is not served here"):
        client.chat.completions.create(model="gpt-5", messages=ASK)


def test_langchains_chat_openai_gets_answers_streamed_and_not(llm):
    from langchain_openai import ChatOpenAI

    local, _ = llm
    chat = ChatOpenAI(base_url=local, api_key="not-checked", model="SmolLM2-135M-Instruct",
                      max_tokens=24, temperature=0, max_retries=0)
    whole = chat.invoke(ASK[0]["content"])
    assert "Paris" in whole.content
    assert whole.usage_metadata["output_tokens"] <= 24
    pieces = [c.content for c in chat.stream(ASK[0]["content"])]
    assert len([p for p in pieces if p]) > 1 and "".join(pieces) == whole.content


@pytest.mark.parametrize("body, status, param", [
    ({"model": "gpt-5", "messages": ASK}, 404, "model"),
    ({"messages": []}, 422, "messages"),
    ({"messages": ASK, "temperature": 9}, 422, "temperature"),
    ({"messages": [{"role": "user", "content": "word " * 9000}]}, 400, "context"),
    ({"messages": [{"role": "user", "content": "word " * 9000}], "stream": True}, 400,
     "context"),
])
def test_bad_requests_say_what_is_wrong(llm, body, status, param):
    local, _ = llm
    r = httpx.post(f"{local}/chat/completions", timeout=60, json=body)
    assert r.status_code == status, r.text
    assert param in r.text


def test_token_and_latency_metrics_reach_prometheus(llm, client):
    import ray

    local, _ = llm
    httpx.post(f"{local}/chat/completions", timeout=120, json={"messages": ASK,
                                                                "max_tokens": 8})
    port = ray.nodes()[0]["MetricsExportPort"]

    def exported():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        names = ("ray_fleet_llm_tokens_generated", "ray_fleet_llm_time_to_first_token_s",
                 "ray_fleet_llm_tokens_per_s", "ray_fleet_llm_queue_length")
        return all(n in text for n in names) and text

    text = wait_until(exported, timeout_s=60, every_s=2)
    assert 'model="SmolLM2-135M-Instruct"' in text
