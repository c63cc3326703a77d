"""Checks the test realm and the Keycloak proxy themselves, so that a failure is gatehouse's."""

import requests

from support.jwt_check import claims, verify_rs256

SECRET = "gatehouse-test-secret-0123456789"


def token(base: str, **form) -> dict:
    resp = requests.post(f"{base}/realms/gatehouse/protocol/openid-connect/token", data=form,
                         timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def password_grant(base: str, client_id: str, username="alice", **extra) -> dict:
    return token(base, grant_type="password", client_id=client_id, scope="openid",
                 username=username, password=f"{username}-pass-123", **extra)


def jwks(base: str) -> dict:
    return requests.get(f"{base}/realms/gatehouse/protocol/openid-connect/certs", timeout=30).json()


def test_client_matches_the_guide(kc_admin):
    client = kc_admin.client("refact_client")
    assert client["publicClient"] is False
    assert client["standardFlowEnabled"] and client["directAccessGrantsEnabled"]
    assert client["serviceAccountsEnabled"] and not client["implicitFlowEnabled"]
    assert client["secret"] == SECRET, "${GATEHOUSE_CLIENT_SECRET} was not substituted"
    assert client["redirectUris"] == ["http://127.0.0.1:18008/*"]
    assert client["webOrigins"] == ["http://127.0.0.1:18008"]


def test_password_grant_on_both_clients(keycloak_url):
    own = claims(password_grant(keycloak_url, "refact_client", client_secret=SECRET)["id_token"])
    assert own["aud"] == "refact_client" and own["preferred_username"] == "alice"
    assert own["groups"] == ["/engineering/backend"]

    other = claims(password_grant(keycloak_url, "other_client")["id_token"])
    assert other["aud"] == "other_client" and other["sub"] == own["sub"]


def test_groups_claim_for_each_user(keycloak_url):
    expected = {"bob": ["/engineering/frontend"], "carol": [], "dave": ["/sales"]}
    for user, groups in expected.items():
        id_token = password_grant(keycloak_url, "refact_client", user, client_secret=SECRET)
        assert claims(id_token["id_token"]).get("groups", []) == groups, user


def test_service_account_can_view_users(keycloak_url):
    access = token(keycloak_url, grant_type="client_credentials", client_id="refact_client",
                   client_secret=SECRET)["access_token"]
    roles = claims(access)["resource_access"]["realm-management"]["roles"]
    assert "view-users" in roles
    users = requests.get(f"{keycloak_url}/admin/realms/gatehouse/users",
                         headers={"Authorization": f"Bearer {access}"}, timeout=30).json()
    assert {"alice", "bob", "carol", "dave"} <= {u["username"] for u in users}


def test_proxy_passthrough_keeps_issuer_and_signature(kc_proxy):
    discovery = requests.get(f"{kc_proxy.url}/realms/gatehouse/.well-known/openid-configuration",
                             timeout=30).json()
    assert discovery["issuer"] == f"{kc_proxy.url}/realms/gatehouse"
    id_token = password_grant(kc_proxy.url, "refact_client", client_secret=SECRET)["id_token"]
    assert claims(id_token)["iss"] == f"{kc_proxy.url}/realms/gatehouse"
    assert verify_rs256(id_token, jwks(kc_proxy.url))
    assert kc_proxy.rewrites == 0


def test_proxy_tampers_signature(kc_proxy):
    kc_proxy.mode = "tamper_signature"
    id_token = password_grant(kc_proxy.url, "refact_client", client_secret=SECRET)["id_token"]
    assert claims(id_token)["aud"] == "refact_client"
    assert not verify_rs256(id_token, jwks(kc_proxy.url))
    assert kc_proxy.rewrites == 1


def test_proxy_swaps_in_foreign_audience(kc_proxy):
    kc_proxy.mode = "foreign_audience"
    id_token = password_grant(kc_proxy.url, "refact_client", client_secret=SECRET)["id_token"]
    foreign = claims(id_token)
    assert foreign["aud"] == "other_client" and foreign["preferred_username"] == "alice"
    assert foreign["iss"] == f"{kc_proxy.url}/realms/gatehouse"
    assert verify_rs256(id_token, jwks(kc_proxy.url))


def test_proxy_passes_redirects_and_cookies(kc_proxy):
    resp = requests.get(
        f"{kc_proxy.url}/realms/gatehouse/protocol/openid-connect/auth",
        params={"client_id": "refact_client", "response_type": "code", "scope": "openid",
                "redirect_uri": "http://127.0.0.1:18008/auth/keycloak/callback", "state": "s"},
        allow_redirects=False, timeout=30)
    assert resp.status_code == 200 and 'id="kc-login"' in resp.text
    assert len(resp.raw.headers.getlist("Set-Cookie")) >= 2
    assert f"{kc_proxy.url}/realms/gatehouse/login-actions/" in resp.text

    resp = requests.get(f"{kc_proxy.url}/admin/", allow_redirects=False, timeout=30)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(kc_proxy.url)
