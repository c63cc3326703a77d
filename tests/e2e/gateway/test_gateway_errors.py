"""Bad requests get a JSON error with a readable `detail`, and the server keeps serving."""

import json

import pytest
import requests

from .conftest import CHAT_MODEL, chat_body, post

LIMIT = 8 * 1024 * 1024  # the default request_body_limit_bytes


def good_request_works(gw, key):
    resp = post(gw, "/v1/chat/completions", key, json=chat_body())
    assert resp.status_code == 200, f"after the error: {resp.status_code} {resp.text[:300]}"
    assert resp.json()["choices"][0]["message"]["content"] == "tok0 tok1 tok2 "


def expect_detail(resp, status: int) -> str:
    assert resp.status_code == status, f"expected {status}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers["Content-Type"].startswith("application/json")
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10, resp.text
    return detail


def test_oversized_body_is_413(gw, alice, upstream):
    body = json.dumps(chat_body(messages=[{"role": "user", "content": "x" * (LIMIT + 1024)}]))
    assert len(body) > LIMIT
    resp = requests.post(f"{gw.base_url}/v1/chat/completions", data=body, timeout=60,
                         headers={"Authorization": f"Bearer {alice.key}",
                                  "Content-Type": "application/json"})
    detail = expect_detail(resp, 413)
    assert str(LIMIT) in detail, detail
    good_request_works(gw, alice.key)


def test_large_body_under_the_limit_is_passed_on(gw, alice, upstream):
    # Well above the 64 KiB limit of pages and admin JSON. (Not up to 8 MiB: the stand-in
    # itself refuses bodies over axum's default 2 MB.)
    filler = "x" * (1900 * 1024)
    resp = post(gw, "/v1/chat/completions", alice.key,
                json=chat_body(messages=[{"role": "user", "content": filler}]))
    assert resp.status_code == 200, resp.text[:300]
    assert len(upstream.last_request()["body"]["messages"][0]["content"]) == len(filler)


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2", b'{"model": "gw-chat", "messages": [}'])
def test_malformed_json_is_400(gw, alice, upstream, raw):
    resp = requests.post(f"{gw.base_url}/v1/chat/completions", data=raw, timeout=30,
                         headers={"Authorization": f"Bearer {alice.key}",
                                  "Content-Type": "application/json"})
    detail = expect_detail(resp, 400)
    assert "JSON" in detail, detail
    good_request_works(gw, alice.key)


def test_request_without_model_is_400(gw, alice, upstream):
    resp = post(gw, "/v1/chat/completions", alice.key,
                json={"messages": [{"role": "user", "content": "hi"}]})
    detail = expect_detail(resp, 400)
    assert "model" in detail, detail
    good_request_works(gw, alice.key)


def test_upstream_error_status_is_passed_on(gw, alice, upstream):
    resp = post(gw, "/v1/chat/completions", alice.key,
                json=chat_body(standin={"status": 503}))
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["message"] == "stand-in failure"
    good_request_works(gw, alice.key)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/v1/nothing-here", 404),          # e.g. an endpoint gatehouse does not offer
    ("POST", "/v1/responses", 404),
    ("GET", "/admin/api/nothing-here", 404),
    ("GET", "/v1/chat/completions", 405),      # wrong method
    ("POST", "/refact-caps", 405),
])
def test_routing_errors_under_the_apis_are_json(gw, alice, method, path, status):
    """PRODUCT.md: errors under /v1, /admin/api and the Refact paths are JSON with a `detail`
    (an HTML page or an empty body is what a program cannot show its user)."""
    resp = requests.request(method, f"{gw.base_url}{path}", timeout=30, json={},
                            headers={"Authorization": f"Bearer {alice.key}"})
    assert resp.status_code == status, resp.text[:200]
    content_type = resp.headers.get("Content-Type", "(none)")
    assert content_type.startswith("application/json"), \
        f"{method} {path}: {status} answered with {content_type}, {len(resp.content)} bytes"
    assert resp.json().get("detail")


def test_error_bodies_also_carry_openai_error_shape(gw, alice, upstream):
    """OpenAI clients read error.message; Refact's engine reads detail: both are present."""
    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body(model="no-such-model"))
    body = resp.json()
    assert body["error"]["message"] == body["detail"]
    assert CHAT_MODEL not in body["detail"]
