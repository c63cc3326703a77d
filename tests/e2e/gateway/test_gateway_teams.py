"""Team rules on the inference API: allowed models, unknown models, requests per minute."""

import time

import openai
import pytest

from .conftest import CHAT_MODEL, chat_body, get, post


def put_team(gw, name: str, **rules) -> dict:
    resp = gw.admin_api("PUT", f"/admin/api/teams/{name}", json=rules)
    assert resp.status_code == 200, f"PUT team {name}: {resp.status_code} {resp.text[:300]}"
    return resp.json()


def test_model_outside_the_teams_allowed_models_is_403(gw, alice, client):
    put_team(gw, "default", allowed_models=["other"])

    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body())
    assert resp.status_code == 403, resp.text
    detail = resp.json()["detail"]
    assert f'"{CHAT_MODEL}"' in detail, f"the detail should name the model: {detail!r}"

    # The openai client shows the same as an error, and the model is no longer listed.
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user",
                                                                     "content": "hi"}])
    assert CHAT_MODEL in str(raised.value)
    listed = [m["id"] for m in get(gw, "/v1/models", alice.key).json()["data"]]
    assert CHAT_MODEL not in listed


def test_allowed_model_still_works(gw, alice, upstream):
    put_team(gw, "default", allowed_models=[CHAT_MODEL])
    assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 200


def test_unknown_model_is_404(gw, alice, client):
    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body(model="no-such-model"))
    assert resp.status_code == 404, resp.text
    detail = resp.json()["detail"]
    assert "no-such-model" in detail, detail
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-model",
                                       messages=[{"role": "user", "content": "hi"}])


def test_requests_per_minute(gw, alice, upstream):
    put_team(gw, "default", requests_per_minute=2)

    for attempt in (1, 2):
        resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body())
        assert resp.status_code == 200, f"request {attempt}: {resp.status_code} {resp.text}"
    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body())
    assert resp.status_code == 429, resp.text
    assert resp.json()["detail"], resp.text
    retry_after = resp.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, \
        f"Retry-After: {retry_after!r}"

    # Lifting the limit takes effect at once.
    put_team(gw, "default", requests_per_minute=None)
    assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 200


def test_tokens_per_minute(gw, alice, upstream):
    """Tokens are charged after each answer (from the upstream's usage); once the team's
    budget is spent, the next request waits."""
    put_team(gw, "default", tokens_per_minute=10)
    first = post(gw, "/v1/chat/completions", alice.key, json=chat_body(standin={"chunks": 4}))
    assert first.status_code == 200, first.text  # 7 + 4 = 11 tokens: over the budget now
    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body())
    assert resp.status_code == 429, resp.text
    assert "token" in resp.json()["detail"], resp.text
    assert int(resp.headers["Retry-After"]) >= 1


def test_rate_limit_survives_unrelated_changes(gw, alice, upstream, users):
    """A team that used up its requests per minute stays limited when something unrelated
    changes: here the user regenerates their own key on /me (which bumps the access
    revision that every replica polls every 2 s)."""
    # A limit other than the earlier tests' own, so that the budget starts afresh.
    put_team(gw, "default", requests_per_minute=3)
    for _ in range(3):
        assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 200
    assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 429
    time.sleep(3)  # control: 3 s refill 0.15 of a request at 3 per minute
    assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 429

    alice.regenerate_key()
    time.sleep(3)  # longer than the access-revision poll interval (2 s)
    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body())
    assert resp.status_code == 429, (
        "the team's request budget was refilled by a key regeneration: "
        f"{resp.status_code} {resp.text[:200]}")
