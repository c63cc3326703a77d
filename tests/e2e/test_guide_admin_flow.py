"""The guide's administrator steps: admin token sign-in, Settings > Auth, Save Settings."""

from support.flows import admin_login, expect_signed_out, path_of, sign_in, wait_for_path
from support.gatehouse import TEST_CLIENT_SECRET

SETTINGS_KEYS = {"enabled", "url", "realm", "client_id", "client_secret_set", "password_login"}


def test_guide_admin_flow(gatehouse, keycloak_url, page, new_page):
    # Start from other values and a wrong secret, so everything checked below was set by the form.
    gatehouse.configure_keycloak(enabled=False, url="http://127.0.0.1:1/", realm="previous",
                                 client_id="previous_client", client_secret="previous-secret-0")

    admin_login(page, gatehouse.base_url, gatehouse.admin_token)
    page.click("a#nav-settings")
    page.click("a#tab-auth")
    wait_for_path(page, "/admin/settings/auth")

    form = page.locator("form#keycloak-settings")
    form.locator("input[name=enabled]").check()
    form.locator("input[name=url]").fill(f"{keycloak_url}/")
    form.locator("input[name=realm]").fill("gatehouse")
    form.locator("input[name=client_id]").fill("refact_client")
    assert form.locator("input[name=client_secret]").get_attribute("type") == "password"
    form.locator("input[name=client_secret]").fill(TEST_CLIENT_SECRET)
    page.click("button#save-settings")

    wait_for_path(page, "/admin/settings/auth")
    assert "Settings saved" in page.text_content(".flash")

    page.reload()
    form = page.locator("form#keycloak-settings")
    assert form.locator("input[name=enabled]").is_checked()
    assert form.locator("input[name=url]").input_value().rstrip("/") == keycloak_url
    assert form.locator("input[name=realm]").input_value() == "gatehouse"
    assert form.locator("input[name=client_id]").input_value() == "refact_client"
    assert form.locator("input[name=client_secret]").input_value() == ""
    assert page.text_content("#client-secret-status").strip() == "set"
    assert TEST_CLIENT_SECRET not in page.content()

    resp = gatehouse.admin_api("GET", "/admin/api/settings/keycloak")
    assert resp.status_code == 200
    settings = resp.json()
    assert set(settings) == SETTINGS_KEYS
    assert settings["enabled"] is True and settings["client_secret_set"] is True
    assert settings["url"].rstrip("/") == keycloak_url
    assert (settings["realm"], settings["client_id"]) == ("gatehouse", "refact_client")
    assert TEST_CLIENT_SECRET not in resp.text

    # The settings take effect at once: a user can sign in with them (the secret too).
    user_page = new_page()
    sign_in(user_page, gatehouse.base_url, "alice")


def test_wrong_admin_token_is_refused(gatehouse, page):
    page.goto(f"{gatehouse.base_url}/admin/login")
    page.fill("form#admin-login-form input[name=token]", "not-the-admin-token-" + "x" * 20)
    page.click("form#admin-login-form button[type=submit]")
    page.wait_for_selector(".error, main[data-error]")
    assert not page.locator("main[data-error]").count(), \
        f"expected the form with an error, got an error page: {page.inner_text('main')}"
    assert page.text_content(".error").strip()
    assert path_of(page.url) == "/admin/login"
    page.goto(f"{gatehouse.base_url}/admin/settings/auth")
    assert path_of(page.url) != "/admin/settings/auth"
    expect_signed_out(page, gatehouse.base_url)


def test_settings_api_requires_the_admin_token(gatehouse):
    for token in ("", "wrong-token-" + "y" * 30):
        resp = gatehouse.admin_api("GET", "/admin/api/settings/keycloak", token=token)
        assert resp.status_code == 401, resp.text
        assert resp.json()["detail"]
    resp = gatehouse.admin_api("PUT", "/admin/api/settings/keycloak", token="",
                               json={"enabled": False, "url": "", "realm": "", "client_id": ""})
    assert resp.status_code == 401


def test_settings_api_rejects_invalid_input(keycloak_configured):
    gatehouse = keycloak_configured
    before = gatehouse.keycloak_settings()
    for bad in ({"url": "not a url"}, {"url": "ftp://127.0.0.1/"}, {"realm": ""},
                {"client_id": ""}):
        body = {"enabled": True, "url": before["url"], "realm": "gatehouse",
                "client_id": "refact_client", "client_secret": None, **bad}
        resp = gatehouse.admin_api("PUT", "/admin/api/settings/keycloak", json=body)
        assert resp.status_code == 400, f"{bad}: {resp.status_code} {resp.text[:200]}"
        assert resp.json()["detail"]
    assert gatehouse.keycloak_settings() == before


def test_empty_secret_field_keeps_the_saved_secret(keycloak_configured, page, new_page):
    gatehouse = keycloak_configured
    admin_login(page, gatehouse.base_url, gatehouse.admin_token)
    page.goto(f"{gatehouse.base_url}/admin/settings/auth")
    page.locator("form#keycloak-settings input[name=realm]").fill("gatehouse")
    page.click("button#save-settings")
    assert "Settings saved" in page.text_content(".flash")
    assert gatehouse.keycloak_settings()["client_secret_set"] is True

    sign_in(new_page(), gatehouse.base_url, "bob")
