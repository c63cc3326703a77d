"""The server's key lifetime (`--key-lifetime-days`): keys issued at sign-in carry it, the
person is told until when their key works, and a sign-in after expiry gives a fresh key."""

import secrets
import time

import pytest
import requests

from gateway.helpers import free_port
from support.gatehouse import GatehouseServer

DAY = 86_400


@pytest.fixture
def short_lived_keys(gatehouse, keycloak_url, tmp_path):
    """A gatehouse of its own whose keys live 30 days (password sign-in needs no redirect URI,
    so it can listen on any port)."""
    server = GatehouseServer(binary=gatehouse.binary, data_dir=tmp_path / "data",
                             log_path=tmp_path / "gatehouse.log",
                             admin_token=secrets.token_urlsafe(30), keycloak_url=keycloak_url,
                             port=free_port(), extra_env={"GATEHOUSE_KEY_LIFETIME_DAYS": "30"})
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    server.configure_keycloak()
    yield server
    server.stop()


def password_login(server, username: str) -> dict:
    resp = requests.post(f"{server.base_url}/v1/login", timeout=30,
                         json={"username": username, "password": f"{username}-pass-123"})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_keys_issued_at_sign_in_expire_after_the_lifetime(short_lived_keys):
    before = time.time()
    answer = password_login(short_lived_keys, "alice")
    expires_at = answer["plugin_api_key_expires_at"]
    assert before + 30 * DAY - 5 <= expires_at <= time.time() + 30 * DAY + 5

    listed = short_lived_keys.admin_api("GET", "/admin/api/users/alice").json()
    assert listed["key"]["expires_at"] // 1000 == expires_at
    assert answer["plugin_api_key"].split("_")[1] == listed["key"]["id"]

    # Signing in again while the key is valid keeps it.
    assert password_login(short_lived_keys, "alice")["plugin_api_key"] == answer["plugin_api_key"]


def test_a_sign_in_after_expiry_gives_a_new_key(short_lived_keys):
    old = password_login(short_lived_keys, "bob")["plugin_api_key"]
    soon = int(time.time()) + 2
    resp = short_lived_keys.admin_api("POST", "/admin/api/users/bob/key/rotate",
                                      json={"expires_at": soon})
    assert resp.status_code == 200, resp.text
    time.sleep(max(0.0, soon - time.time()) + 1.2)

    fresh = password_login(short_lived_keys, "bob")
    assert fresh["plugin_api_key"] != old
    assert fresh["plugin_api_key_expires_at"] > time.time() + 29 * DAY
    models = requests.get(f"{short_lived_keys.base_url}/v1/models", timeout=30,
                          headers={"Authorization": f"Bearer {fresh['plugin_api_key']}"})
    assert models.status_code == 200, models.text
