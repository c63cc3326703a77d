"""Browser steps shared by the end-to-end tests, written against gatehouse's page contract."""

import re
import time
import urllib.parse

import requests

CALLBACK_PATH = "/auth/keycloak/callback"


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def query_of(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def wait_for_path(page, path: str, timeout: float = 20):
    """Waits until the page is at `path`; fails at once, with its details, on an error page."""
    deadline = time.monotonic() + timeout
    while True:
        if page.locator("main[data-error]").count():
            code = page.get_attribute("main[data-error]", "data-error")
            texts = page.locator("main h1, main p").all_text_contents()
            text = " / ".join(t.strip() for t in texts)
            raise AssertionError(f"expected {path}, got error page {code!r} at {page.url}: {text}")
        if path_of(page.url) == path:
            page.wait_for_load_state()
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {path} within {timeout}s, still at {page.url}")
        page.wait_for_timeout(100)


def admin_login(page, base_url: str, token: str):
    """From /login through "Administrator login" to the console (/admin)."""
    page.goto(f"{base_url}/login")
    page.click("a#admin-login")
    page.fill("form#admin-login-form input[name=token]", token)
    page.click("form#admin-login-form button[type=submit]")
    wait_for_path(page, "/admin")


def continue_to_keycloak(page, base_url: str):
    """Opens /login and presses "Continue to Keycloak"; stops on Keycloak's login page."""
    page.goto(f"{base_url}/login")
    page.click("a#continue-keycloak")
    page.wait_for_selector("#kc-login, main[data-error], #account-login")
    error = page.get_attribute("main[data-error]", "data-error", timeout=1) \
        if page.locator("main[data-error]").count() else None
    assert page.locator("#kc-login").count() == 1, \
        f"expected Keycloak's login form, landed on {page.url} (error page: {error})"


def keycloak_sign_in(page, username: str, password: str):
    """Fills Keycloak's own login form and submits it."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#kc-login")


def sign_in(page, base_url: str, username="alice", password=None):
    """The whole user sign-in; returns when the browser is on /me."""
    continue_to_keycloak(page, base_url)
    keycloak_sign_in(page, username, password or f"{username}-pass-123")
    wait_for_path(page, "/me")


def record_callbacks(page) -> list:
    """Collects every callback URL the page requests (they arrive as redirects from Keycloak)."""
    seen = []
    page.on("request", lambda req: seen.append(req.url) if path_of(req.url) == CALLBACK_PATH
            else None)
    return seen


def expect_error_page(page, code: str):
    """Asserts gatehouse's HTML error page with the given data-error code."""
    # Also stop on /me, so a sign-in that wrongly succeeds fails fast with a clear message.
    page.wait_for_selector("main[data-error], #account-login")
    assert page.locator("main[data-error]").count() == 1, \
        f"expected error page {code!r}, landed on {page.url} instead"
    actual = page.get_attribute("main[data-error]", "data-error")
    detail = page.text_content("main p.detail") or ""
    assert actual == code, f"expected error {code!r}, got {actual!r}: {detail!r}"

    title = (page.text_content("main h1") or "").strip()
    assert title and "_" not in title, f"h1 should be readable text, got {title!r}"
    assert len(detail.strip()) > 10, f"p.detail should explain the error, got {detail!r}"
    assert page.get_attribute("a#try-again", "href"), "a#try-again needs an href"


def expect_signed_out(page, base_url: str):
    """/me must send a visitor without a session to /login."""
    page.goto(f"{base_url}/me")
    assert path_of(page.url) == "/login", f"expected /login, ended on {page.url}"


def error_code_of(html: str) -> str | None:
    match = re.search(r'<main[^>]*\bdata-error="([^"]+)"', html)
    return match.group(1) if match else None


def start_sign_in_without_browser(base_url: str):
    """GET /auth/keycloak/start with plain requests; returns (session, its new state)."""
    session = requests.Session()
    resp = session.get(f"{base_url}/auth/keycloak/start", allow_redirects=False, timeout=30)
    assert resp.status_code == 303, f"start: {resp.status_code} {resp.text[:300]}"
    state = query_of(resp.headers["Location"]).get("state")
    assert state, f"no state in {resp.headers['Location']}"
    return session, state
