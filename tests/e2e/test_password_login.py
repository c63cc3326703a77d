"""Password sign-in for tools without a browser: POST /v1/login and `gatehouse login`, checked
against Keycloak's Direct Access Grants."""

import subprocess

import requests


def login(gatehouse, username, password):
    return requests.post(f"{gatehouse.base_url}/v1/login",
                         json={"username": username, "password": password}, timeout=30)


def test_right_password_answers_with_account_team_and_key(keycloak_configured):
    answer = login(keycloak_configured, "alice", "alice-pass-123")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["username"] == "alice" and body["team"]
    assert body["plugin_api_key"].startswith("gk_")
    assert body["endpoint"] == keycloak_configured.base_url
    again = login(keycloak_configured, "alice", "alice-pass-123").json()
    assert again["plugin_api_key"] == body["plugin_api_key"], "the same person keeps one key"

    models = requests.get(f"{keycloak_configured.base_url}/v1/models", timeout=30,
                          headers={"Authorization": f"Bearer {body['plugin_api_key']}"})
    assert models.status_code == 200, "the key works on the inference API"


def test_wrong_password_and_disabled_user_are_refused(keycloak_configured, kc_admin):
    wrong = login(keycloak_configured, "alice", "not-her-password")
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "wrong user name or password"

    kc_admin.set_user_enabled("carol", False)
    try:
        disabled = login(keycloak_configured, "carol", "carol-pass-123")
        assert disabled.status_code == 403, disabled.text
        assert "disabled" in disabled.json()["detail"]
    finally:
        kc_admin.set_user_enabled("carol", True)


def test_repeated_failures_are_throttled(keycloak_configured):
    for _ in range(5):
        assert login(keycloak_configured, "bob", "guess").status_code == 401
    blocked = login(keycloak_configured, "bob", "bob-pass-123")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "too many failed attempts" in blocked.json()["detail"]


def test_password_sign_in_can_be_switched_off(keycloak_configured):
    keycloak_configured.configure_keycloak(password_login=False)
    try:
        off = login(keycloak_configured, "alice", "alice-pass-123")
        assert off.status_code == 403
        assert "switched off" in off.json()["detail"]
        assert keycloak_configured.keycloak_settings()["password_login"] is False
    finally:
        keycloak_configured.configure_keycloak(password_login=True)


def test_command_line_login_prints_the_key(keycloak_configured):
    done = subprocess.run(
        [str(keycloak_configured.binary), "login", "--server", keycloak_configured.base_url,
         "--username", "dave"],
        input="dave-pass-123\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Signed in as dave" in done.stdout
    assert "Plugin API Key: gk_" in done.stdout
    assert "dave-pass-123" not in done.stdout + done.stderr
