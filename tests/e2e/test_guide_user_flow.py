"""The guide's user steps: Continue to Keycloak, sign in, see login, key and team; then log out."""

from support.flows import (continue_to_keycloak, expect_signed_out, keycloak_sign_in, sign_in,
                           wait_for_path)


def read_me_page(page) -> dict:
    return {
        "login": page.text_content("#account-login").strip(),
        "key": page.text_content("#plugin-key").strip(),
        "team": page.text_content("#team").strip(),
        "endpoint": page.text_content("#endpoint").strip(),
    }


def test_guide_user_flow(keycloak_configured, page):
    gatehouse = keycloak_configured
    sign_in(page, gatehouse.base_url, "alice")

    me = read_me_page(page)
    assert me["login"] == "alice"
    assert me["key"].startswith("gk_") and len(me["key"]) > 20
    assert me["team"]
    assert me["endpoint"].rstrip("/") == gatehouse.base_url
    assert page.is_visible("button#copy-key")

    # Logout goes through Keycloak's logout and back to /login.
    assert page.text_content("button#logout").strip() == "Logout"
    page.click("button#logout")
    wait_for_path(page, "/login")
    expect_signed_out(page, gatehouse.base_url)

    # The Keycloak session ended too: Keycloak asks for the password again.
    continue_to_keycloak(page, gatehouse.base_url)
    assert page.is_visible("#password")
    keycloak_sign_in(page, "alice", "alice-pass-123")
    wait_for_path(page, "/me")
    assert read_me_page(page)["key"] == me["key"]


def test_login_page_offers_both_ways_in(keycloak_configured, page):
    gatehouse = keycloak_configured
    page.goto(f"{gatehouse.base_url}/login")
    assert page.text_content("a#continue-keycloak").strip() == "Continue to Keycloak"
    assert page.get_attribute("a#continue-keycloak", "href").endswith("/auth/keycloak/start")
    assert page.text_content("a#admin-login").strip() == "Administrator login"
    assert page.get_attribute("a#admin-login", "href").endswith("/admin/login")


def test_users_get_their_own_keys(keycloak_configured, page, new_page):
    gatehouse = keycloak_configured
    sign_in(page, gatehouse.base_url, "alice")
    other = new_page()
    sign_in(other, gatehouse.base_url, "bob")
    assert read_me_page(other)["login"] == "bob"
    assert read_me_page(other)["key"] != read_me_page(page)["key"]
