"""Sign-in failures: each ends on a clear error page with a try-again link, and nobody signed in."""

import socket
import urllib.parse

import requests

from support.flows import (CALLBACK_PATH, continue_to_keycloak, error_code_of,
                           expect_error_page, expect_signed_out, keycloak_sign_in, query_of,
                           record_callbacks, sign_in, start_sign_in_without_browser)


def closed_port() -> int:
    """A loopback port nothing listens on (bound once by us, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sign_in_expecting_error(page, gatehouse, code: str, username="alice"):
    continue_to_keycloak(page, gatehouse.base_url)
    keycloak_sign_in(page, username, f"{username}-pass-123")
    expect_error_page(page, code)
    expect_signed_out(page, gatehouse.base_url)


def test_wrong_client_secret(keycloak_configured, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(client_secret="this-is-not-the-client-secret-42")
    sign_in_expecting_error(page, gatehouse, "invalid_client")


def test_user_cancels_on_keycloak(keycloak_configured, keycloak_url, page):
    # Keycloak's login form has no cancel button; its answer to a refusal is this redirect.
    gatehouse = keycloak_configured
    continue_to_keycloak(page, gatehouse.base_url)
    state = query_of(page.url).get("state")
    assert state, f"no state in Keycloak's login URL {page.url}"

    query = urllib.parse.urlencode({"error": "access_denied", "state": state,
                                    "iss": f"{keycloak_url}/realms/gatehouse"})
    page.goto(f"{gatehouse.base_url}{CALLBACK_PATH}?{query}")
    expect_error_page(page, "access_denied")
    expect_signed_out(page, gatehouse.base_url)


def test_replayed_state(keycloak_configured, page, new_page):
    gatehouse = keycloak_configured
    callbacks = record_callbacks(page)
    sign_in(page, gatehouse.base_url, "alice")
    assert callbacks, "the sign-in passed no callback URL"

    replay = new_page()
    replay.goto(callbacks[0])
    expect_error_page(replay, "login_expired")
    expect_signed_out(replay, gatehouse.base_url)


def test_replayed_code(keycloak_configured, page):
    gatehouse = keycloak_configured
    callbacks = record_callbacks(page)
    sign_in(page, gatehouse.base_url, "alice")
    used = query_of(callbacks[0])

    # A new, valid attempt (state and its binding cookie) presenting the spent code.
    session, state = start_sign_in_without_browser(gatehouse.base_url)
    query = urllib.parse.urlencode({**used, "state": state})
    resp = session.get(f"{gatehouse.base_url}{CALLBACK_PATH}?{query}", allow_redirects=False,
                       timeout=30)
    assert error_code_of(resp.text) == "code_rejected", f"{resp.status_code} {resp.text[:500]}"
    assert 'id="try-again"' in resp.text

    me = session.get(f"{gatehouse.base_url}/me", allow_redirects=False, timeout=30)
    assert me.status_code in (302, 303, 307), f"/me answered {me.status_code}"
    assert urllib.parse.urlsplit(me.headers["Location"]).path == "/login"


def test_tampered_id_token_signature(keycloak_configured, kc_proxy, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(url=f"{kc_proxy.url}/")
    kc_proxy.mode = "tamper_signature"
    sign_in_expecting_error(page, gatehouse, "id_token_invalid")
    assert kc_proxy.rewrites >= 1, "gatehouse's token request did not pass the proxy"


def test_id_token_for_another_audience(keycloak_configured, kc_proxy, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(url=f"{kc_proxy.url}/")
    kc_proxy.mode = "foreign_audience"
    sign_in_expecting_error(page, gatehouse, "id_token_invalid")
    assert kc_proxy.rewrites >= 1, "gatehouse's token request did not pass the proxy"


def test_keycloak_unreachable(keycloak_configured, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(url=f"http://127.0.0.1:{closed_port()}/")
    page.goto(f"{gatehouse.base_url}/login")
    page.click("a#continue-keycloak")
    expect_error_page(page, "keycloak_unreachable")
    expect_signed_out(page, gatehouse.base_url)


def test_wrong_realm_name(keycloak_configured, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(realm="no-such-realm")
    page.goto(f"{gatehouse.base_url}/login")
    page.click("a#continue-keycloak")
    expect_error_page(page, "keycloak_misconfigured")
    expect_signed_out(page, gatehouse.base_url)


def test_keycloak_disabled(keycloak_configured, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(enabled=False)
    page.goto(f"{gatehouse.base_url}/login")
    assert page.locator("a#continue-keycloak").count() == 0
    page.goto(f"{gatehouse.base_url}/auth/keycloak/start")
    expect_error_page(page, "keycloak_disabled")
    expect_signed_out(page, gatehouse.base_url)


def test_start_answers_with_a_redirect_to_keycloak(keycloak_configured, keycloak_url):
    gatehouse = keycloak_configured
    resp = requests.get(f"{gatehouse.base_url}/auth/keycloak/start", allow_redirects=False,
                        timeout=30)
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert location.startswith(f"{keycloak_url}/realms/gatehouse/protocol/openid-connect/auth?")
    params = query_of(location)
    assert params["client_id"] == "refact_client" and params["response_type"] == "code"
    assert params["redirect_uri"] == f"{gatehouse.base_url}{CALLBACK_PATH}"
    assert "openid" in params["scope"].split() and params.get("state")
    assert resp.cookies, "the start sets a per-attempt binding cookie"
