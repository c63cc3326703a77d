"""Usage recorded per request with the upstream's own token counts, seen by the administrator
as JSON and CSV. Usage is written in batches off the request path: the tests poll up to 5 s."""

import csv
import io
import time

from .conftest import CHAT_MODEL, EMBED_MODEL

POLL_SECONDS = 5


def totals(gw, group="user") -> dict:
    resp = gw.admin_api("GET", f"/admin/api/usage?group={group}")
    assert resp.status_code == 200, resp.text
    return {t["name"]: t for t in resp.json()["totals"]}


def of(table: dict, name: str) -> tuple:
    row = table.get(name, {})
    return (row.get("requests", 0), row.get("prompt_tokens", 0), row.get("completion_tokens", 0))


def settled(gw, name: str, group="user") -> tuple:
    """The totals once nothing from earlier requests is still on its way to the database."""
    previous = of(totals(gw, group), name)
    deadline = time.monotonic() + POLL_SECONDS
    while time.monotonic() < deadline:
        time.sleep(1.2)
        current = of(totals(gw, group), name)
        if current == previous:
            return current
        previous = current
    return previous


def wait_for(gw, name: str, expected: tuple, group="user") -> tuple:
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        current = of(totals(gw, group), name)
        if current == expected or time.monotonic() > deadline:
            return current
        time.sleep(0.2)


def test_usage_per_user_with_the_upstreams_token_counts(gw, alice, client):
    before = settled(gw, "alice")

    client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "a"}],
                                   extra_body={"standin": {"chunks": 4}})            # 7 + 4
    stream = client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "b"}], stream=True,
        stream_options={"include_usage": True}, extra_body={"standin": {"chunks": 5}})  # 7 + 5
    assert len(list(stream)) >= 5
    client.completions.create(model=CHAT_MODEL, prompt="c",
                              extra_body={"standin": {"chunks": 2}})                 # 7 + 2

    expected = (before[0] + 3, before[1] + 21, before[2] + 11)
    after = wait_for(gw, "alice", expected)
    assert after == expected, (f"alice's usage (requests, prompt, completion) went from "
                               f"{before} to {after}, expected {expected}")


def test_stream_without_usage_counts_the_request(gw, alice, client):
    before = settled(gw, "alice")
    stream = client.chat.completions.create(model=CHAT_MODEL, stream=True,
                                            messages=[{"role": "user", "content": "a"}])
    list(stream)
    expected = (before[0] + 1, before[1], before[2])
    assert wait_for(gw, "alice", expected) == expected


def test_usage_per_model_and_team(gw, alice, client):
    before_model = settled(gw, EMBED_MODEL, "model")
    before_team = of(totals(gw, "team"), "default")
    client.embeddings.create(model=EMBED_MODEL, input=["x", "y", "z"])
    expected = (before_model[0] + 1, before_model[1] + 3, before_model[2])
    assert wait_for(gw, EMBED_MODEL, expected, "model") == expected
    assert of(totals(gw, "team"), "default")[0] >= before_team[0] + 1


def test_usage_csv(gw, alice, client):
    client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "a"}])
    settled(gw, "alice")
    as_json = totals(gw)
    resp = gw.admin_api("GET", "/admin/api/usage.csv?group=user")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert rows and list(rows[0].keys()) == ["name", "requests", "prompt_tokens",
                                            "completion_tokens"]
    alice_row = next(r for r in rows if r["name"] == "alice")
    assert (int(alice_row["requests"]), int(alice_row["prompt_tokens"]),
            int(alice_row["completion_tokens"])) == of(as_json, "alice")


def test_usage_api_needs_the_admin_token(gw, alice):
    resp = gw.admin_api("GET", "/admin/api/usage", token=alice.key)
    assert resp.status_code == 401
    resp = gw.admin_api("GET", "/admin/api/usage.csv", token="")
    assert resp.status_code == 401
