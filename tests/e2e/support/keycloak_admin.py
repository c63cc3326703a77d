"""Keycloak admin REST API client for tests: the bootstrap admin (admin/admin) via admin-cli."""

import time

import requests


class KeycloakAdmin:
    """Calls {url}/admin/realms/{realm}/...; fetches a fresh admin token when the old one ages."""

    def __init__(self, url: str, realm: str = "gatehouse", username="admin", password="admin"):
        self.url = url.rstrip("/")
        self.realm = realm
        self.username, self.password = username, password
        self._token = None
        self._token_at = 0.0

    def token(self) -> str:
        # admin-cli tokens live 60 s by default; renew well before that.
        if self._token is None or time.monotonic() - self._token_at > 30:
            resp = requests.post(
                f"{self.url}/realms/master/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": "admin-cli",
                      "username": self.username, "password": self.password},
                timeout=30,
            )
            resp.raise_for_status()
            self._token = resp.json()["access_token"]
            self._token_at = time.monotonic()
        return self._token

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """A request to the realm's admin API; `path` is relative to /admin/realms/{realm}."""
        headers = {"Authorization": f"Bearer {self.token()}", **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/admin/realms/{self.realm}{path}",
                                headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **params):
        resp = self.request("GET", path, params=params)
        resp.raise_for_status()
        return resp.json()

    def user(self, username: str) -> dict:
        found = self.get("/users", username=username, exact="true")
        assert found, f"no Keycloak user {username!r}"
        return found[0]

    def client(self, client_id: str) -> dict:
        found = self.get("/clients", clientId=client_id)
        assert found, f"no Keycloak client {client_id!r}"
        return found[0]

    def user_sessions(self, username: str) -> list:
        return self.get(f"/users/{self.user(username)['id']}/sessions")

    def logout_user(self, username: str):
        """Ends all of the user's Keycloak sessions."""
        resp = self.request("POST", f"/users/{self.user(username)['id']}/logout")
        resp.raise_for_status()

    def set_user_enabled(self, username: str, enabled: bool):
        user = self.user(username)
        resp = self.request("PUT", f"/users/{user['id']}", json={**user, "enabled": enabled})
        resp.raise_for_status()
