"""Keycloak as the source of truth: directory sync through the service account adds people,
follows their groups, and shuts out those disabled or deleted in Keycloak, and a sync that
fails half-way changes nothing."""

import subprocess
import uuid

import pytest
import requests

from support.flows import expect_signed_out, sign_in


def sync(gatehouse):
    answer = gatehouse.admin_api("POST", "/admin/api/directory/sync?wait=true")
    assert answer.status_code == 200, answer.text
    return answer.json()["summary"]


def key_of(gatehouse, username, password):
    answer = requests.post(f"{gatehouse.base_url}/v1/login",
                           json={"username": username, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["plugin_api_key"]


def models_status(gatehouse, key):
    return requests.get(f"{gatehouse.base_url}/v1/models", timeout=30,
                        headers={"Authorization": f"Bearer {key}"}).status_code


@pytest.fixture
def person(kc_admin):
    """A throwaway Keycloak user in /engineering/frontend, deleted afterwards."""
    name = f"tmp-{uuid.uuid4().hex[:8]}"
    password = f"{name}-pass-123"
    created = kc_admin.request("POST", "/users", json={
        "username": name, "enabled": True, "email": f"{name}@example.test", "emailVerified": True,
        "firstName": "Temp", "lastName": "Person", "groups": ["/engineering/frontend"],
        "credentials": [{"type": "password", "value": password, "temporary": False}]})
    assert created.status_code == 201, created.text
    yield {"name": name, "password": password}
    user = kc_admin.get("/users", username=name, exact="true")
    if user:
        kc_admin.request("DELETE", f"/users/{user[0]['id']}")


def test_sync_adds_people_and_follows_group_moves(keycloak_configured, kc_admin, person):
    gatehouse = keycloak_configured
    assert gatehouse.admin_api("PUT", "/admin/api/teams/frontend", json={}).status_code == 200
    assert gatehouse.admin_api("PUT", "/admin/api/teams/sales", json={}).status_code == 200
    for path, team in (("/engineering/frontend", "frontend"), ("/sales", "sales")):
        answer = gatehouse.admin_api("PUT", "/admin/api/group-mappings",
                                     json={"group_path": path, "team": team, "priority": 10})
        assert answer.status_code == 200
    try:
        summary = sync(gatehouse)
        assert summary["users_in_keycloak"] >= 5 and summary["added"] >= 1
        added = gatehouse.admin_api("GET", f"/admin/api/users/{person['name']}").json()
        assert added["team"] == "frontend" and added["key_id"] is None

        user = kc_admin.user(person["name"])
        groups = kc_admin.get("/groups", search="sales")
        sales = next(g for g in groups if g["path"] == "/sales")
        kc_admin.request("PUT", f"/users/{user['id']}/groups/{sales['id']}").raise_for_status()
        frontend = next(g for g in kc_admin.get(f"/users/{user['id']}/groups"))
        kc_admin.request("DELETE", f"/users/{user['id']}/groups/{frontend['id']}").raise_for_status()
        assert sync(gatehouse)["updated"] >= 1
        moved = gatehouse.admin_api("GET", f"/admin/api/users/{person['name']}").json()
        assert moved["team"] == "sales"
    finally:
        for path in ("/engineering/frontend", "/sales"):
            gatehouse.admin_api("DELETE", f"/admin/api/group-mappings?group_path={path}")


def test_disabled_and_deleted_people_lose_access_and_come_back(keycloak_configured, kc_admin,
                                                               person, page):
    gatehouse = keycloak_configured
    key = key_of(gatehouse, person["name"], person["password"])
    assert models_status(gatehouse, key) == 200
    sign_in(page, gatehouse.base_url, person["name"], person["password"])

    kc_admin.set_user_enabled(person["name"], False)
    assert sync(gatehouse)["disabled"] >= 1
    assert models_status(gatehouse, key) == 401, "the key of a disabled person is refused"
    expect_signed_out(page, gatehouse.base_url)
    assert gatehouse.admin_api("GET", f"/admin/api/users/{person['name']}").json()["disabled"]

    kc_admin.set_user_enabled(person["name"], True)
    assert sync(gatehouse)["reenabled"] >= 1
    assert models_status(gatehouse, key) == 200, "re-enabled in Keycloak, access is back"

    kc_admin.request("DELETE", f"/users/{kc_admin.user(person['name'])['id']}").raise_for_status()
    assert sync(gatehouse)["removed"] >= 1
    assert models_status(gatehouse, key) == 401, "the key of a deleted person is refused"


@pytest.mark.parametrize("failure", ["fail_groups", "drop_groups"])
def test_a_sync_that_fails_half_way_changes_nothing(keycloak_configured, kc_admin, kc_proxy,
                                                    person, failure):
    gatehouse = keycloak_configured
    key = key_of(gatehouse, person["name"], person["password"])
    kc_admin.set_user_enabled(person["name"], False)

    gatehouse.configure_keycloak(url=f"{kc_proxy.url}/")
    kc_proxy.mode = failure
    failed = gatehouse.admin_api("POST", "/admin/api/directory/sync?wait=true")
    assert failed.status_code == 502, failed.text
    assert "nothing was changed" in failed.json()["detail"]
    assert models_status(gatehouse, key) == 200, "a failed sync must not disable anyone"

    status = gatehouse.admin_api("GET", "/admin/api/directory/sync").json()
    assert status["recent"][0]["status"] == "failed" and status["running"] is None


def test_console_and_command_line_sync(keycloak_configured, page):
    gatehouse = keycloak_configured
    done = subprocess.run([str(gatehouse.binary), "directory", "sync", "--server", gatehouse.base_url],
                          env={"GATEHOUSE_ADMIN_TOKEN": gatehouse.admin_token}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "users in Keycloak" in done.stdout

    from support.flows import admin_login
    admin_login(page, gatehouse.base_url, gatehouse.admin_token)
    page.click("a#nav-directory")
    page.click("#sync-now")
    page.wait_for_selector("#syncs td .ok")
    assert "in Keycloak" in page.text_content("#syncs tbody tr")
