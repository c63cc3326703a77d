"""Back-channel logout: when a session ends on Keycloak's side, the gatehouse session ends too."""

import requests

from support.flows import expect_signed_out, sign_in

LOGOUT_PATH = "/auth/keycloak/backchannel-logout"


def test_realm_registers_the_backchannel_logout_url(kc_admin, gatehouse):
    client = kc_admin.client("refact_client")
    assert client["attributes"]["backchannel.logout.url"] == f"{gatehouse.base_url}{LOGOUT_PATH}"
    assert client["frontchannelLogout"] is False


def test_signing_out_in_keycloaks_account_console_ends_the_gatehouse_session(
        keycloak_configured, keycloak_url, page):
    gatehouse = keycloak_configured
    sign_in(page, gatehouse.base_url, "carol")

    # The same browser opens Keycloak's account console (already signed in there through
    # gatehouse's sign-in) and signs out from its user menu.
    page.goto(f"{keycloak_url}/realms/gatehouse/account")
    page.get_by_test_id("options-toggle").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_selector("#kc-login")

    expect_signed_out(page, gatehouse.base_url)


def test_signing_out_on_keycloaks_own_page_ends_the_gatehouse_session(
        keycloak_configured, keycloak_url, page):
    gatehouse = keycloak_configured
    sign_in(page, gatehouse.base_url, "bob")

    # Keycloak's own logout page, opened without any hint: it asks, bob confirms.
    page.goto(f"{keycloak_url}/realms/gatehouse/protocol/openid-connect/logout")
    page.click("#kc-logout")
    page.wait_for_load_state()

    expect_signed_out(page, gatehouse.base_url)


def test_an_administrator_ending_the_keycloak_session_ends_gatehouse_sessions(
        keycloak_configured, kc_admin, page):
    gatehouse = keycloak_configured
    sign_in(page, gatehouse.base_url, "dave")
    kc_admin.logout_user("dave")
    expect_signed_out(page, gatehouse.base_url)


def test_forged_logout_tokens_are_refused(keycloak_configured):
    gatehouse = keycloak_configured
    for token in ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]:
        answer = requests.post(f"{gatehouse.base_url}{LOGOUT_PATH}", data={"logout_token": token},
                               timeout=30)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_request"
