"""`gatehouse keycloak setup` against an empty realm: it performs the guide's console steps,
the connection check then passes, a person can sign in, and a second run changes nothing."""

import subprocess
import uuid

import pytest

from support.flows import sign_in
from support.keycloak_admin import KeycloakAdmin


@pytest.fixture
def empty_realm(keycloak_url):
    name = f"setup-{uuid.uuid4().hex[:8]}"
    realm = KeycloakAdmin(keycloak_url, realm=name)
    yield realm
    realm.request("DELETE", "")


def setup(gatehouse, keycloak_url, realm):
    return subprocess.run(
        [str(gatehouse.binary), "keycloak", "setup", "--server", gatehouse.base_url,
         "--keycloak-url", f"{keycloak_url}/", "--realm", realm],
        input="admin\n", env={"GATEHOUSE_ADMIN_TOKEN": gatehouse.admin_token},
        capture_output=True, text=True, timeout=120)


def test_setup_makes_an_empty_realm_work_and_is_idempotent(keycloak_configured, keycloak_url,
                                                          empty_realm, page):
    gatehouse = keycloak_configured
    first = setup(gatehouse, keycloak_url, empty_realm.realm)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"created realm {empty_realm.realm}" in first.stdout
    assert "created client refact_client" in first.stdout
    assert "admin" not in first.stdout.split("changed:")[0], "the admin password is not echoed"

    settings = gatehouse.keycloak_settings()
    assert settings["realm"] == empty_realm.realm and settings["client_secret_set"]
    report = gatehouse.admin_api("GET", "/admin/api/keycloak/check").json()
    assert report["ok"] is True, report

    created = empty_realm.request("POST", "/users", json={
        "username": "erin", "enabled": True, "email": "erin@example.test", "emailVerified": True,
        "firstName": "Erin", "lastName": "Setup",
        "credentials": [{"type": "password", "value": "erin-pass-123", "temporary": False}]})
    assert created.status_code == 201, created.text
    sign_in(page, gatehouse.base_url, "erin", "erin-pass-123")
    assert page.text_content("#account-login").strip() == "erin"

    second = setup(gatehouse, keycloak_url, empty_realm.realm)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing changed" in second.stdout
