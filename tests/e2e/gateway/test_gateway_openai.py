"""The OpenAI-compatible API through the real `openai` client: models, completions, chat and
embeddings with a user's Plugin API Key, plain and streamed, and streams passed on as they come."""

import json
import time

import requests

from .conftest import CHAT_MODEL, EMBED_MODEL, UPSTREAM

MESSAGES = [{"role": "user", "content": "Say hello"}]


def standin(chunks: int, **more) -> dict:
    return {"standin": {"chunks": chunks, **more}}


def test_models_lists_the_upstreams_models(client):
    models = {m.id: m for m in client.models.list()}
    assert {CHAT_MODEL, EMBED_MODEL} <= models.keys(), f"got {sorted(models)}"
    assert UPSTREAM in models[CHAT_MODEL].owned_by


def test_completion(client, upstream, alice):
    answer = client.completions.create(model=CHAT_MODEL, prompt="def add(a, b):",
                                       max_tokens=20, extra_body=standin(4))
    assert answer.choices[0].text == "tok0 tok1 tok2 tok3 "
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (7, 4)

    # The upstream got the body unchanged and never the user's key.
    seen = upstream.last_request()
    assert seen["body"]["prompt"] == "def add(a, b):"
    assert seen["body"]["max_tokens"] == 20
    assert seen["body"]["standin"] == {"chunks": 4}
    assert alice.key not in json.dumps(seen["headers"]), "the Plugin API Key reached the upstream"


def test_chat_completion(client):
    answer = client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES,
                                            extra_body=standin(3))
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == "tok0 tok1 tok2 "
    assert answer.usage.total_tokens == 10


def test_embeddings(client):
    answer = client.embeddings.create(model=EMBED_MODEL, input=["first", "second"])
    assert [d.index for d in answer.data] == [0, 1]
    assert [round(x, 3) for x in answer.data[0].embedding] == [0.1, 0.2, 0.3]


def test_chat_stream(client):
    stream = client.chat.completions.create(model=CHAT_MODEL, messages=MESSAGES, stream=True,
                                            extra_body=standin(4))
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "tok0 tok1 tok2 tok3 "
    assert all(c.usage is None for c in chunks), "usage came without include_usage"


def test_completion_stream(client):
    stream = client.completions.create(model=CHAT_MODEL, prompt="x = ", stream=True,
                                       extra_body=standin(3))
    text = "".join(c.choices[0].text for c in stream if c.choices)
    assert text == "tok0 tok1 tok2 "


def test_stream_usage_chunk_with_include_usage(client):
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True,
        stream_options={"include_usage": True}, extra_body=standin(5))
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == [], "the usage chunk should come last, with no choices"
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (7, 5)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(f"tok{i} " for i in range(5))


def test_stream_wire_format(gw, alice, upstream):
    """What Refact's engine reads: text/event-stream, JSON in every data: line, [DONE] last."""
    resp = requests.post(f"{gw.base_url}/v1/completions", stream=True, timeout=30,
                         headers={"Authorization": f"Bearer {alice.key}"},
                         json={"model": CHAT_MODEL, "prompt": "a", "stream": True,
                               "stream_options": {"include_usage": True}, **standin(2)})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    data = [line[len("data:"):].strip() for line in resp.iter_lines(decode_unicode=True)
            if line.startswith("data:")]
    assert data[-1] == "[DONE]"
    payloads = [json.loads(d) for d in data[:-1]]
    assert [p["choices"][0]["text"] for p in payloads if p["choices"]] == ["tok0 ", "tok1 "]
    assert payloads[-1]["usage"]["completion_tokens"] == 2


def test_stream_chunks_arrive_as_the_upstream_sends_them(client):
    """The stand-in sends 5 chunks 100 ms apart; the client must see them about 100 ms apart,
    the first long before the last is sent (no buffering on the way)."""
    started = time.monotonic()
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True,
        extra_body=standin(5, chunk_delay_ms=100))
    arrivals = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((time.monotonic() - started, chunk.choices[0].delta.content))

    assert [text for _, text in arrivals] == [f"tok{i} " for i in range(5)]
    times = [t for t, _ in arrivals]
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    shown = f"arrivals (s after the request): {[round(t, 3) for t in times]}, gaps {gaps}"
    assert all(gap >= 0.06 for gap in gaps), f"chunks bunched up: {shown}"
    # The last chunk leaves the stand-in 400 ms after the first.
    assert times[0] < 0.3, f"the first chunk came late: {shown}"
    assert times[-1] - times[0] >= 0.3, f"chunks were held back: {shown}"


def test_concurrent_streams_are_not_serialized(gw, alice, upstream):
    """Eight clients streaming at once (5 chunks, 100 ms apart each) all finish in about the
    time one stream takes."""
    from concurrent.futures import ThreadPoolExecutor

    from .conftest import openai_client

    def one(i):
        client = openai_client(gw.base_url, alice.key)
        stream = client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": f"client {i}"}],
            stream=True, extra_body=standin(5, chunk_delay_ms=100))
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(one, range(8)))
    elapsed = time.monotonic() - started
    assert texts == ["tok0 tok1 tok2 tok3 tok4 "] * 8
    assert elapsed < 2.0, f"8 parallel 0.4 s streams took {elapsed:.2f} s"


def test_fast_stream_is_not_held_back(gw, alice, admin_changes):
    """An upstream that streams an event every 5 ms (separate small writes, TCP_NODELAY): the
    client must get them about 5 ms apart through gatehouse too, not held back and delivered
    in a lump (Nagle's algorithm on gatehouse's client socket waits for the client's delayed
    ACK, up to 40 ms on Linux). Measured on a kept-alive connection, as IDE plugins use."""
    import statistics

    from .helpers import BurstUpstream

    burst = BurstUpstream(["gw-burst-model"]).start()
    try:
        resp = gw.admin_api("PUT", "/admin/api/upstreams/gw-burst",
                            json={"url": burst.url, "models": ["gw-burst-model"]})
        assert resp.status_code == 200, resp.text

        def lags(url, headers):
            """Per stream, the most an event came later than the upstream's pace allows:
            max over events i of (arrival_i - i * 5 ms), in ms after the request."""
            session = requests.Session()
            found = []
            for _ in range(5):
                started = time.monotonic()
                resp = session.post(url, headers=headers, stream=True, timeout=30, json={
                    "model": "gw-burst-model", "stream": True,
                    "burst": {"events": 6, "gap_ms": 5}})
                assert resp.status_code == 200, resp.text
                arrivals = [time.monotonic() - started for line in resp.iter_lines() if line]
                assert len(arrivals) == 7  # 6 events and [DONE]
                found.append(max(t - i * 0.005 for i, t in enumerate(arrivals)))
            return [round(lag * 1000, 1) for lag in found[2:]]  # the first two warm up

        direct = lags(f"{burst.url}/chat/completions", {})
        through = lags(f"{gw.base_url}/v1/chat/completions",
                       {"Authorization": f"Bearer {alice.key}"})
    finally:
        burst.stop()
    shown = (f"latest event vs the upstream's 5 ms pace (ms): direct {direct}, "
             f"through gatehouse {through}")
    assert statistics.median(direct) < 15, f"the test upstream itself is slow: {shown}"
    assert statistics.median(through) < 25, f"events held back by gatehouse: {shown}"


def test_a_client_that_leaves_mid_stream_ends_the_upstream_stream(client, upstream):
    """The openai client stops reading after the first chunk and closes the stream: gatehouse
    drops its upstream request at once instead of reading the answer to its end."""
    before = upstream.streams()
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=MESSAGES, stream=True,
        extra_body=standin(50, chunk_delay_ms=100))
    first = next(iter(stream))
    assert first.choices[0].delta.content == "tok0 "
    stream.close()

    deadline = time.monotonic() + 3
    while upstream.streams()["dropped"] == before["dropped"] and time.monotonic() < deadline:
        time.sleep(0.05)
    after = upstream.streams()
    assert after["dropped"] == before["dropped"] + 1, \
        f"the upstream stream went on after the client left: {before} -> {after}"
    assert after["finished"] == before["finished"]
