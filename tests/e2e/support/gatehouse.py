"""Runs the real gatehouse binary for end-to-end tests and talks to its admin JSON API."""

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

TEST_CLIENT_SECRET = "gatehouse-test-secret-0123456789"


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class GatehouseServer:
    """One `gatehouse serve` process on a fresh data dir, with stdout and stderr in a log file."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, admin_token: str,
                 keycloak_url: str, host="127.0.0.1", port=18008, pid_file: Path | None = None,
                 extra_env: dict | None = None):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.pid_file = pid_file  # lets scripts/test end a server that pytest could not
        self.admin_token = admin_token
        self.keycloak_url = keycloak_url.rstrip("/")
        self.host, self.port = host, port
        self.base_url = f"http://{host}:{port}"
        self.extra_env = extra_env or {}
        self.process = None

    def start(self, timeout: float = 30):
        if not self.binary.is_file():
            raise RuntimeError(f"gatehouse binary not found at {self.binary}: run `cargo build`")
        if port_is_open(self.host, self.port):
            raise RuntimeError(f"port {self.port} is already in use (a gatehouse left running?)")

        env = {**os.environ, "GATEHOUSE_ADMIN_TOKEN": self.admin_token, **self.extra_env}
        env.setdefault("RUST_LOG", "info")
        env.setdefault("NO_COLOR", "1")  # plain log lines in the file and in failure reports
        cmd = [str(self.binary), "serve", "--listen", f"{self.host}:{self.port}",
               "--public-url", self.base_url, "--data-dir", str(self.data_dir)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        if self.pid_file:
            self.pid_file.write_text(str(self.process.pid))

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gatehouse exited with {self.process.returncode}:\n"
                                   f"{tail(self.log_path)}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"gatehouse not healthy within {timeout}s:\n{tail(self.log_path)}")
            time.sleep(0.2)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pid_file:
            self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    def admin_api(self, method: str, path: str, json=None, token: str | None = None):
        """Calls the admin JSON API with the admin token (or `token`, e.g. a wrong one)."""
        token = self.admin_token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.base_url}{path}", json=json, headers=headers,
                                timeout=30, allow_redirects=False)

    def keycloak_settings(self) -> dict:
        resp = self.admin_api("GET", "/admin/api/settings/keycloak")
        assert resp.status_code == 200, f"GET settings: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def configure_keycloak(self, **overrides) -> dict:
        """PUTs the Keycloak settings: the test realm's working values unless overridden."""
        body = {"enabled": True, "url": f"{self.keycloak_url}/", "realm": "gatehouse",
                "client_id": "refact_client", "client_secret": TEST_CLIENT_SECRET, **overrides}
        resp = self.admin_api("PUT", "/admin/api/settings/keycloak", json=body)
        assert resp.status_code == 200, f"PUT settings: {resp.status_code} {resp.text[:300]}"
        return resp.json()
