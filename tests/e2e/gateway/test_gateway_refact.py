"""What Refact's IDE engine calls (notes/refact-plugin-protocol.md): caps, tokenizers and
telemetry, with plain requests."""

import json
import secrets
import time

import pytest

from .conftest import CHAT_MODEL, EMBED_MODEL, get, post

CAPS_PATHS = ["/refact-caps", "/coding_assistant_caps.json"]


def caps(gw, key, path="/refact-caps") -> dict:
    resp = get(gw, path, key)
    assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp.json()


@pytest.mark.parametrize("path", CAPS_PATHS)
def test_caps_have_every_field_the_engine_requires(gw, alice, upstream, path):
    body = caps(gw, alice.key, path)
    assert isinstance(body["cloud_name"], str) and body["cloud_name"]
    for section in ("completion", "chat", "embedding"):
        part = body[section]
        assert {"endpoint", "models", "default_model"} <= part.keys(), f"{section}: {part}"
        assert isinstance(part["models"], dict) and isinstance(part["default_model"], str)
    assert body["completion"]["endpoint"] == "/v1/completions"
    assert body["chat"]["endpoint"] == "/v1/chat/completions"
    assert body["embedding"]["endpoint"] == "/v1/embeddings"
    telemetry = body["telemetry_endpoints"]
    assert telemetry["telemetry_basic_endpoint"] == "/stats/telemetry-basic"
    assert telemetry["telemetry_basic_retrieve_my_own_endpoint"] == "/stats/rh-stats"
    assert isinstance(body["tokenizer_endpoints"], dict)
    assert isinstance(body["caps_version"], int)

    # The stand-in's models: chat and embedding; no FIM tokens known, so no completion model.
    chat = body["chat"]["models"][CHAT_MODEL]
    assert "PASSTHROUGH" in chat["supports_scratchpads"] and chat["n_ctx"] > 0
    assert EMBED_MODEL in body["embedding"]["models"]
    assert body["embedding"]["default_model"] == EMBED_MODEL
    # Every model has a tokenizer entry; without a tokenizer file, fake:// (engine estimates).
    for model in (CHAT_MODEL, EMBED_MODEL):
        endpoint = body["tokenizer_endpoints"][model]
        assert endpoint.startswith("fake") or endpoint.startswith("/tokenizer/"), endpoint


@pytest.mark.parametrize("path", CAPS_PATHS)
def test_caps_without_key_is_401_with_detail(gw, upstream, path):
    resp = get(gw, path, None)
    assert resp.status_code == 401, resp.text[:300]
    assert resp.json()["detail"]


def test_caps_with_unknown_key_is_401_with_detail(gw, upstream):
    resp = get(gw, "/refact-caps", "gk_aaaaaaaaaaaa_" + "b" * 40)
    assert resp.status_code == 401 and resp.json()["detail"]


def test_caps_version_rises_after_a_team_change(gw, alice, upstream):
    before = caps(gw, alice.key)
    resp = gw.admin_api("PUT", "/admin/api/teams/default",
                        json={"default_chat_model": CHAT_MODEL, "allowed_models": None})
    assert resp.status_code == 200, resp.text
    after = caps(gw, alice.key)
    assert after["caps_version"] > before["caps_version"]
    assert after["chat"]["default_model"] == CHAT_MODEL


def test_caps_follow_the_teams_allowed_models(gw, alice, upstream):
    resp = gw.admin_api("PUT", "/admin/api/teams/default", json={"allowed_models": [EMBED_MODEL]})
    assert resp.status_code == 200, resp.text
    body = caps(gw, alice.key)
    assert CHAT_MODEL not in body["chat"]["models"]
    assert CHAT_MODEL not in body["tokenizer_endpoints"]
    assert EMBED_MODEL in body["embedding"]["models"]


def test_tokenizer_needs_no_key_and_says_when_there_is_none(gw, upstream):
    resp = get(gw, f"/tokenizer/{CHAT_MODEL}", None)
    assert resp.status_code == 404, resp.text[:300]
    assert CHAT_MODEL in resp.json()["detail"]


def test_telemetry_round_trip(gw, alice, upstream):
    marker = f"gw-test-{secrets.token_hex(6)}"
    now = int(time.time())
    record = {"records": [{"scope": marker, "success": True, "error_message": ""}],
              "ts_start": now - 60, "ts_end": now, "teletype": "network",
              "enduser_client_version": "refact-lsp 0.10.30"}
    resp = post(gw, "/stats/telemetry-basic", alice.key, json=record)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"retcode": "OK"}

    resp = get(gw, "/stats/rh-stats", alice.key)
    assert resp.status_code == 200, resp.text
    lines = [line for line in resp.text.splitlines() if line.strip()]
    assert lines, "rh-stats answered no NDJSON line"
    parsed = [json.loads(line) for line in lines]  # every line is JSON on its own
    assert all(p["retcode"] == "OK" for p in parsed)
    mine = [item for p in parsed for item in p["data"] if marker in json.dumps(item)]
    assert len(mine) == 1, f"the telemetry record is not in rh-stats: {resp.text[:500]}"


def test_telemetry_is_per_user(gw, users, upstream):
    alice, bob = users.get("alice"), users.get("bob")
    marker = f"gw-private-{secrets.token_hex(6)}"
    resp = post(gw, "/stats/telemetry-basic", alice.key,
                json={"records": [{"scope": marker}], "teletype": "network"})
    assert resp.status_code == 200
    assert marker not in get(gw, "/stats/rh-stats", bob.key).text


def test_telemetry_needs_a_key(gw, upstream):
    resp = post(gw, "/stats/telemetry-basic", None, json={"records": []})
    assert resp.status_code == 401 and resp.json()["detail"]
    resp = get(gw, "/stats/rh-stats", None)
    assert resp.status_code == 401 and resp.json()["detail"]


@pytest.mark.parametrize("size", [1536 * 1024, 3 * 1024 * 1024])
def test_oversized_telemetry_is_413_json(gw, alice, upstream, size):
    """Over the telemetry limit (1 MiB): a JSON error with `detail`, as everywhere on the
    Refact paths, whatever the size."""
    body = json.dumps({"records": [{"blob": "x" * size}], "teletype": "network"})
    resp = post(gw, "/stats/telemetry-basic", alice.key, data=body,
                headers={"Content-Type": "application/json"})
    assert resp.status_code == 413, resp.text[:200]
    assert resp.headers.get("Content-Type", "").startswith("application/json"), \
        f"{len(body)} bytes: 413 answered with {resp.headers.get('Content-Type')}: {resp.text[:100]!r}"
    assert resp.json()["detail"]
