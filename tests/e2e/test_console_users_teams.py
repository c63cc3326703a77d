"""The console's Teams and Users pages in a real browser: an administrator sets team rules,
maps Keycloak groups to teams, and changes one person's team, key and access; each change is
what the person and the gateway see next."""

import pytest
import requests

from support.flows import admin_login, expect_signed_out, sign_in, wait_for_path


def key_status(base_url: str, key: str) -> int:
    return requests.get(f"{base_url}/v1/models", timeout=30,
                        headers={"Authorization": f"Bearer {key}"}).status_code


@pytest.fixture
def console(keycloak_configured, page):
    """The administrator's browser on the console; alice's team and access put back after."""
    gatehouse = keycloak_configured
    admin_login(page, gatehouse.base_url, gatehouse.admin_token)
    yield page
    gatehouse.admin_api("POST", "/admin/api/users/alice/enable")
    gatehouse.admin_api("DELETE", "/admin/api/users/alice/team")
    for path in ("/console/frontend",):
        gatehouse.admin_api("DELETE", f"/admin/api/group-mappings?group_path={path}")
    gatehouse.admin_api("PUT", "/admin/api/group-mappings/policy",
                        json={"unmapped_users": "default_team"})


def team_rules(gatehouse, name: str) -> dict:
    teams = gatehouse.admin_api("GET", "/admin/api/teams").json()["teams"]
    return next(t for t in teams if t["name"] == name)


def test_teams_page_saves_rules_mappings_and_the_policy(keycloak_configured, console):
    gatehouse, page = keycloak_configured, console
    page.click("a#nav-teams")
    wait_for_path(page, "/admin/teams")

    page.fill("#team-name", "console-frontend")
    page.fill("#team-models", "m-one, m-two")
    page.fill("#team-chat", "m-one")
    page.fill("#team-rpm", "30")
    page.click("#save-team")
    wait_for_path(page, "/admin/teams")
    assert page.is_visible("#notice")
    row = page.text_content('tr[data-team="console-frontend"]')
    assert "m-one, m-two" in row and "30" in row and "no limit" in row
    rules = team_rules(gatehouse, "console-frontend")
    assert rules["allowed_models"] == ["m-one", "m-two"]
    assert (rules["default_chat_model"], rules["requests_per_minute"]) == ("m-one", 30)
    assert rules["tokens_per_minute"] is None

    # A default model outside the allowed ones is refused, with the form kept as typed.
    page.click('tr[data-team="console-frontend"] a')
    assert page.input_value("#team-models") == "m-one, m-two"
    page.fill("#team-chat", "m-nine")
    page.click("#save-team")
    assert "m-nine" in page.text_content("#problem")
    assert page.input_value("#team-chat") == "m-nine"
    page.fill("#team-chat", "m-one")
    page.fill("#team-tpm", "fast")
    page.click("#save-team")
    assert "Tokens per minute" in page.text_content("#problem")
    assert team_rules(gatehouse, "console-frontend")["default_chat_model"] == "m-one"

    page.fill("#mapping-group", "console/frontend/")
    page.select_option("#mapping-team", "console-frontend")
    page.fill("#mapping-priority", "7")
    page.click("#save-mapping")
    wait_for_path(page, "/admin/teams")
    assert "console-frontend" in page.text_content('tr[data-group="/console/frontend"]')
    mappings = gatehouse.admin_api("GET", "/admin/api/group-mappings").json()["mappings"]
    assert {"group_path": "/console/frontend", "team_id": "console-frontend",
            "priority": 7} in mappings

    page.click('tr[data-group="/console/frontend"] button')
    wait_for_path(page, "/admin/teams")
    assert page.locator('tr[data-group="/console/frontend"]').count() == 0
    mappings = gatehouse.admin_api("GET", "/admin/api/group-mappings").json()["mappings"]
    assert all(m["group_path"] != "/console/frontend" for m in mappings)

    page.check("#unmapped-refuse")
    page.click("#save-policy")
    wait_for_path(page, "/admin/teams")
    assert page.is_checked("#unmapped-refuse")
    policy = gatehouse.admin_api("GET", "/admin/api/group-mappings").json()["unmapped_users"]
    assert policy == "refuse"


def test_users_page_lists_people_with_their_key_id_only(keycloak_configured, console, new_page):
    gatehouse, page = keycloak_configured, console
    alice = new_page()
    sign_in(alice, gatehouse.base_url, "alice")
    key = alice.text_content("#plugin-key").strip()

    page.click("a#nav-users")
    wait_for_path(page, "/admin/users")
    row = page.text_content('tr[data-user="alice"]')
    assert f"gk_{key.split('_')[1]}_" in row and "active" in row
    assert key.split("_")[2] not in page.content(), "the Users page shows a key's secret"

    page.fill("#user-search", "ALI")
    page.click("#search-users")
    assert page.locator("#users tbody tr[data-user]").get_attribute("data-user") == "alice"
    assert page.locator("#users tbody tr[data-user]").count() == 1
    page.fill("#user-search", "nobody-like-this")
    page.click("#search-users")
    assert "Nobody matches" in page.text_content("#users")


def test_user_page_changes_team_key_and_access_at_once(keycloak_configured, console, new_page):
    gatehouse, page = keycloak_configured, console
    assert gatehouse.admin_api("PUT", "/admin/api/teams/console-ops", json={}).status_code == 200
    alice = new_page()
    sign_in(alice, gatehouse.base_url, "alice")
    first_key = alice.text_content("#plugin-key").strip()
    assert key_status(gatehouse.base_url, first_key) == 200

    page.goto(f"{gatehouse.base_url}/admin/users")
    page.click('tr[data-user="alice"] a')
    page.wait_for_selector("#user-login")
    assert page.text_content("#user-login").strip() == "alice"

    # Team: the administrator's choice, then back to the group mapping.
    page.select_option("#team-select", "console-ops")
    page.click("#set-team")
    page.wait_for_selector("#notice")
    assert page.text_content("#user-team").strip() == "console-ops"
    alice.reload()
    assert alice.text_content("#team").strip() == "console-ops"
    page.click("#follow-mapping")
    page.wait_for_selector("#notice")
    assert page.text_content("#user-team").strip() != "console-ops"
    assert page.locator("#follow-mapping").count() == 0

    # Rotate with a validity: the old key is refused, the person sees the new one.
    page.fill("#valid-days", "7")
    page.click("#rotate-key")
    page.wait_for_selector("#notice")
    assert "valid until" in page.text_content("#user-key")
    assert key_status(gatehouse.base_url, first_key) == 401
    alice.reload()
    second_key = alice.text_content("#plugin-key").strip()
    assert second_key != first_key and alice.is_visible("#key-expires")
    assert key_status(gatehouse.base_url, second_key) == 200

    # Revoking asks first; saying no changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#revoke-key")
    page.wait_for_timeout(300)
    assert key_status(gatehouse.base_url, second_key) == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revoke-key")
    page.wait_for_selector("#notice")
    assert key_status(gatehouse.base_url, second_key) == 401
    alice.reload()
    assert alice.is_visible("#plugin-key-missing")
    alice.click("#regenerate-key")
    wait_for_path(alice, "/me")
    third_key = alice.text_content("#plugin-key").strip()

    # Disabling ends the person's session and refuses their key; enabling lets them back.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#disable-user")
    page.wait_for_selector("#notice")
    assert "disabled by an administrator" in page.text_content("#user-status")
    assert key_status(gatehouse.base_url, third_key) == 401
    expect_signed_out(alice, gatehouse.base_url)
    page.click("#enable-user")
    page.wait_for_selector("#notice")
    assert page.text_content("#user-status").strip() == "active"
    assert key_status(gatehouse.base_url, third_key) == 200


def test_console_forms_need_the_administrator(keycloak_configured, new_page):
    """Without an admin session the pages send people to sign in, and posts change nothing."""
    gatehouse = keycloak_configured
    stranger = requests.post(f"{gatehouse.base_url}/admin/teams", timeout=30,
                             allow_redirects=False, headers={"Origin": gatehouse.base_url},
                             data={"name": "sneaky", "csrf": "x"})
    assert stranger.status_code in (303, 401, 403), stranger.status_code
    names = [t["name"] for t in gatehouse.admin_api("GET", "/admin/api/teams").json()["teams"]]
    assert "sneaky" not in names
    page = new_page()
    page.goto(f"{gatehouse.base_url}/admin/users")
    assert "/admin/login" in page.url or "/login" in page.url
