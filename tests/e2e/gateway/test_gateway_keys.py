"""Plugin API Keys on the inference API: what a client sees without a usable key, and how
regeneration (on /me) and the administrator's revoke, rotate, disable and enable take effect
on the very next request."""

import secrets
import string
import time

import pytest

from .conftest import chat_body, get, post
from .helpers import KEY_PATTERN, parse_page

ALNUM = string.ascii_letters + string.digits


def unknown_key() -> str:
    """Well-formed (gk_<12 lowercase alnum>_<40 alnum>) but never issued."""
    lower = string.ascii_lowercase + string.digits
    return ("gk_" + "".join(secrets.choice(lower) for _ in range(12)) + "_"
            + "".join(secrets.choice(ALNUM) for _ in range(40)))


def expect_unauthorized(resp, hint: str = ""):
    assert resp.status_code == 401, f"{hint}: expected 401, got {resp.status_code} {resp.text[:300]}"
    assert resp.headers["Content-Type"].startswith("application/json")
    detail = resp.json().get("detail")
    assert isinstance(detail, str) and len(detail) > 10, f"{hint}: no readable detail: {resp.text}"
    return detail


def works(gw, key: str) -> bool:
    resp = post(gw, "/v1/chat/completions", key, json=chat_body())
    if resp.status_code == 200:
        return True
    expect_unauthorized(resp)
    return False


@pytest.mark.parametrize("path,method", [("/v1/chat/completions", "POST"),
                                         ("/v1/completions", "POST"),
                                         ("/v1/embeddings", "POST"),
                                         ("/v1/models", "GET")])
def test_no_key_is_401_with_detail(gw, upstream, path, method):
    if method == "GET":
        resp = get(gw, path, None)
    else:
        resp = post(gw, path, None, json=chat_body())
    detail = expect_unauthorized(resp, f"{method} {path} without a key")
    assert "key" in detail.lower()


@pytest.mark.parametrize("key", ["sk-1234567890abcdef", "gk_short_key", "gk_", "Bearer",
                                 "gk_ABCDEFGHIJKL_" + "a" * 40])
def test_malformed_key_is_401_with_detail(gw, upstream, key):
    expect_unauthorized(post(gw, "/v1/chat/completions", key, json=chat_body()), key)


def test_unknown_key_is_401_with_detail(gw, upstream):
    key = unknown_key()
    assert KEY_PATTERN.match(key)
    expect_unauthorized(post(gw, "/v1/chat/completions", key, json=chat_body()))


def test_other_auth_schemes_are_not_accepted(gw, upstream, alice):
    resp = post(gw, "/v1/chat/completions", None, json=chat_body(),
                headers={"Authorization": f"Basic {alice.key}"})
    expect_unauthorized(resp, "Basic scheme")


def test_regenerated_key_replaces_the_old_one_at_once(gw, upstream, users):
    bob = users.get("bob")
    old = bob.key
    assert works(gw, old)

    resp = bob.regenerate_key()
    assert resp.status_code == 200 and resp.url.endswith("/me?regenerated=1"), resp.url
    assert "no longer works" in resp.text, "no notice on /me that the old key stopped working"
    new = bob.key
    assert KEY_PATTERN.match(new) and new != old

    assert not works(gw, old), "the old key still works right after regeneration"
    assert works(gw, new), "the new key does not work"


def test_admin_revoke(gw, upstream, users):
    dave = users.get("dave")
    key = dave.key
    assert works(gw, key)

    resp = gw.admin_api("POST", "/admin/api/users/dave/key/revoke")
    assert resp.status_code == 200, resp.text
    assert "gk_" not in resp.text, "the admin API returned a key"
    assert resp.json()["revoked"] >= 1

    assert not works(gw, key), "a revoked key still works"
    # The owner's page says there is no usable key and offers a new one.
    me = dave.http.get(f"{gw.base_url}/me", timeout=30, allow_redirects=False)
    assert me.status_code == 200
    assert "plugin-key-missing" in parse_page(me.text).texts
    info = gw.admin_api("GET", "/admin/api/users/dave").json()
    assert info["key_id"] is None and "gk_" not in str(info)


def test_admin_rotate(gw, upstream, users):
    dave = users.get("dave")
    old = dave.key
    assert works(gw, old)

    resp = gw.admin_api("POST", "/admin/api/users/dave/key/rotate")
    assert resp.status_code == 200, resp.text
    assert "gk_" not in resp.text, "the admin API returned a key"
    key_id = resp.json()["key_id"]

    assert not works(gw, old), "the old key still works after rotation"
    dave.me()
    assert dave.key and dave.key != old
    assert dave.key.split("_")[1] == key_id, "/me does not show the rotated key"
    assert works(gw, dave.key)


def test_admin_disable_and_enable(gw, upstream, users):
    carol = users.get("carol")
    key = carol.key
    assert works(gw, key)

    resp = gw.admin_api("POST", "/admin/api/users/carol/disable")
    assert resp.status_code == 200, resp.text
    assert resp.json()["disabled"] is True and "gk_" not in resp.text
    assert not works(gw, key), "a disabled user's key still works"
    assert get(gw, "/v1/models", key).status_code == 401
    assert get(gw, "/refact-caps", key).status_code == 401

    resp = gw.admin_api("POST", "/admin/api/users/carol/enable")
    assert resp.status_code == 200, resp.text
    assert resp.json()["disabled"] is False
    assert works(gw, key), "the key did not work again after enabling the user"


def test_admin_user_api_needs_the_admin_token(gw, upstream, alice):
    for path in ("/admin/api/users/alice/key/rotate", "/admin/api/users/alice/disable"):
        resp = gw.admin_api("POST", path, token=alice.key)
        assert resp.status_code == 401, f"{path} with a plugin key: {resp.status_code}"
    assert works(gw, alice.key)


def test_x_api_key_header_is_accepted(gw, upstream, alice):
    resp = post(gw, "/v1/chat/completions", None, json=chat_body(),
                headers={"X-Api-Key": alice.key})
    assert resp.status_code == 200, resp.text


def test_admin_key_actions_on_unknown_user_are_404(gw):
    for action in ("key/revoke", "key/rotate", "disable", "enable"):
        resp = gw.admin_api("POST", f"/admin/api/users/nobody-{action.replace('/', '-')}/{action}")
        assert resp.status_code == 404, f"{action}: {resp.status_code} {resp.text[:200]}"
        assert "nobody" in resp.json()["detail"]


def test_admin_rotate_with_an_expiry(gw, upstream, users):
    """A key rotated with `expires_at` works until then and is refused from then on."""
    dave = users.get("dave")
    expires_at = int(time.time()) + 3
    resp = gw.admin_api("POST", "/admin/api/users/dave/key/rotate",
                        json={"expires_at": expires_at})
    assert resp.status_code == 200, resp.text
    assert resp.json()["expires_at"] == expires_at
    dave.me()
    assert works(gw, dave.key)
    listed = gw.admin_api("GET", "/admin/api/users/dave").json()
    assert listed["key"]["expires_at"] == expires_at * 1000
    assert "Valid until" in dave.me().text

    time.sleep(max(0.0, expires_at - time.time()) + 1.2)
    detail = expect_unauthorized(post(gw, "/v1/chat/completions", dave.key, json=chat_body()),
                                 "expired key")
    assert "expired" in detail
    assert dave.me() is not None and dave.key is None, "/me still shows an expired key"


@pytest.mark.parametrize("body,problem", [
    ({"expires_at": 1}, "future"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"valid_for": 3}, "valid_for"),
])
def test_rotate_refuses_a_bad_expiry_and_keeps_the_key(gw, upstream, users, body, problem):
    bob = users.get("bob")
    resp = gw.admin_api("POST", "/admin/api/users/bob/key/rotate", json=body)
    assert resp.status_code == 400, resp.text
    assert problem in resp.json()["detail"]
    assert works(gw, bob.key), "a refused rotation changed the key"


def test_users_api_lists_people_with_key_facts_never_keys(gw, upstream, users):
    alice, bob = users.get("alice"), users.get("bob")
    resp = gw.admin_api("GET", "/admin/api/users")
    assert resp.status_code == 200, resp.text
    listed = {u["username"]: u for u in resp.json()["users"]}
    assert {"alice", "bob"} <= listed.keys()
    assert listed["alice"]["key"]["id"] == alice.key.split("_")[1]
    for key in (alice.key, bob.key):
        assert key.split("_")[2] not in resp.text, "the users API returned a key's secret"

    found = gw.admin_api("GET", "/admin/api/users?search=ALI").json()["users"]
    assert [u["username"] for u in found] == ["alice"]
    assert gw.admin_api("GET", "/admin/api/users?search=%25").json()["users"] == [], \
        "a % in the search matched everyone"


def test_team_override_and_back_to_the_mapping(gw, upstream, users, admin_changes):
    bob = users.get("bob")
    assert gw.admin_api("PUT", "/admin/api/teams/gw-override", json={}).status_code == 200
    resp = gw.admin_api("PUT", "/admin/api/users/bob/team", json={"team": "gw-override"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["team"], resp.json()["team_source"]) == ("gw-override", "admin")

    resp = gw.admin_api("PUT", "/admin/api/users/bob/team", json={"team": "no-such-team"})
    assert resp.status_code == 400 and "no team named" in resp.json()["detail"]

    resp = gw.admin_api("DELETE", "/admin/api/users/bob/team")
    assert resp.status_code == 200, resp.text
    assert resp.json()["team_source"] != "admin"
    assert resp.json()["team"] != "gw-override"
    assert works(gw, bob.key)
