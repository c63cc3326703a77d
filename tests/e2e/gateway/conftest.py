"""Fixtures for the gateway tests: stand-in upstreams, their registration through the admin API,
users' Plugin API Keys obtained by a browserless sign-in, and an openai client.

Every admin change a test makes (teams, console upstreams, disabled users) is put back after it.
Environment: STANDIN_BIN (default target/debug/examples/standin_upstream; `cargo build
--examples` builds it) besides the parent conftest's KEYCLOAK_URL and GATEHOUSE_BIN.
"""

import os
from pathlib import Path

import openai
import pytest
import requests

from .helpers import SignedInUser, StandinUpstream

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", REPO / ".cache" / "e2e-artifacts"))

CHAT_MODEL = "gw-chat"
EMBED_MODEL = "gw-embed"  # "embed" in the name: gatehouse lists it as an embedding model
UPSTREAM = "gw-standin"
TEST_USERS = ("alice", "bob", "carol", "dave")


@pytest.fixture(scope="session")
def standin_bin() -> Path:
    path = Path(os.environ.get("STANDIN_BIN",
                               REPO / "target" / "debug" / "examples" / "standin_upstream"))
    if not path.is_file():
        pytest.fail(f"stand-in upstream not found at {path}: run `cargo build --examples`")
    return path


@pytest.fixture(scope="session")
def standin(standin_bin):
    """One stand-in inference server for the whole session (it keeps no state between
    requests except /standin/last-request)."""
    server = StandinUpstream(standin_bin, [CHAT_MODEL, EMBED_MODEL],
                             log_path=ARTIFACTS / "standin-gateway.log", threads=2)
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gw(gatehouse):
    """The session's gatehouse with Keycloak sign-in configured (left as it is when it
    already points at the test realm)."""
    wanted = {"enabled": True, "realm": "gatehouse", "client_id": "refact_client",
              "url": f"{gatehouse.keycloak_url}/"}
    current = gatehouse.keycloak_settings()
    if any(current.get(k) != v for k, v in wanted.items()):
        gatehouse.configure_keycloak()
    return gatehouse


class AdminChanges:
    """Snapshots what tests may change through the admin API and puts it back."""

    def __init__(self, server):
        self.server = server
        self.teams = self._teams()
        self.upstreams = self._console_upstreams()
        self.enabled_users = {name for name, disabled in self._user_states().items()
                              if not disabled}

    def _get(self, path):
        resp = self.server.admin_api("GET", path)
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def _teams(self) -> dict:
        return {t["name"]: t for t in self._get("/admin/api/teams")["teams"]}

    def _console_upstreams(self) -> dict:
        return {u["name"]: u for u in self._get("/admin/api/upstreams")["upstreams"]
                if u["source"] == "console"}

    def _user_states(self) -> dict:
        states = {}
        for name in TEST_USERS:
            resp = self.server.admin_api("GET", f"/admin/api/users/{name}")
            if resp.status_code == 200:
                states[name] = resp.json()["disabled"]
        return states

    def restore(self):
        problems = []
        rule_fields = ("allowed_models", "default_completion_model", "default_chat_model",
                       "requests_per_minute", "tokens_per_minute")
        for name, team in self._teams().items():
            before = self.teams.get(name)
            if before is None:
                continue  # no DELETE for teams; tests create none
            if any(team[f] != before[f] for f in rule_fields):
                resp = self.server.admin_api("PUT", f"/admin/api/teams/{name}",
                                             json={f: before[f] for f in rule_fields})
                if resp.status_code != 200:
                    problems.append(f"team {name}: {resp.status_code} {resp.text[:200]}")
        now = self._console_upstreams()
        for name in now.keys() - self.upstreams.keys():
            resp = self.server.admin_api("DELETE", f"/admin/api/upstreams/{name}")
            if resp.status_code != 204:
                problems.append(f"delete upstream {name}: {resp.status_code} {resp.text[:200]}")
        for name, before in self.upstreams.items():
            after = now.get(name)
            if after is None or (after["url"], after["models"]) != (before["url"],
                                                                    before["models"]):
                resp = self.server.admin_api("PUT", f"/admin/api/upstreams/{name}",
                                             json={"url": before["url"],
                                                   "models": before["models"]})
                if resp.status_code != 200:
                    problems.append(f"upstream {name}: {resp.status_code} {resp.text[:200]}")
        for name, disabled in self._user_states().items():
            if disabled and name in self.enabled_users:
                resp = self.server.admin_api("POST", f"/admin/api/users/{name}/enable")
                if resp.status_code != 200:
                    problems.append(f"enable {name}: {resp.status_code} {resp.text[:200]}")
        assert not problems, "could not restore the admin state: " + "; ".join(problems)


@pytest.fixture
def admin_changes(gw):
    """Puts teams, console upstreams and users' enabled state back after the test."""
    changes = AdminChanges(gw)
    yield changes
    changes.restore()


@pytest.fixture
def upstream(gw, standin, admin_changes):
    """The stand-in registered as console upstream `gw-standin` serving gw-chat and gw-embed."""
    resp = gw.admin_api("PUT", f"/admin/api/upstreams/{UPSTREAM}",
                        json={"url": standin.url, "models": [CHAT_MODEL, EMBED_MODEL]})
    assert resp.status_code == 200, f"PUT upstream: {resp.status_code} {resp.text[:300]}"
    return standin


class Users:
    """Signed-in users for the session; each keeps its gatehouse cookie and current key."""

    def __init__(self, server):
        self.server = server
        self.signed_in = {}

    def get(self, username: str) -> SignedInUser:
        user = self.signed_in.get(username)
        if user is None:
            user = SignedInUser(self.server.base_url, username, f"{username}-pass-123")
            user.sign_in()
            self.signed_in[username] = user
        user.ensure_key()
        return user


@pytest.fixture(scope="session")
def _users(gw):
    return Users(gw)


@pytest.fixture
def users(_users, admin_changes):
    """users.get(name): that user signed in, with a usable key (issued again if a previous
    test revoked it)."""
    return _users


@pytest.fixture
def alice(users) -> SignedInUser:
    return users.get("alice")


def openai_client(base_url: str, key: str) -> openai.OpenAI:
    """An openai client on gatehouse's /v1 with the key; no retries, so that every error
    a test provokes is the one the user would see."""
    return openai.OpenAI(api_key=key, base_url=f"{base_url}/v1", max_retries=0, timeout=30)


@pytest.fixture
def client(gw, alice, upstream) -> openai.OpenAI:
    return openai_client(gw.base_url, alice.key)


def post(gw, path: str, key: str | None, json=None, **kwargs) -> requests.Response:
    """A plain POST to gatehouse with the key (or without one when key is None)."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.post(f"{gw.base_url}{path}", json=json, headers=headers, timeout=30,
                         **kwargs)


def get(gw, path: str, key: str | None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return requests.get(f"{gw.base_url}{path}", headers=headers, timeout=30, **kwargs)


def chat_body(model: str = CHAT_MODEL, **extra) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}
