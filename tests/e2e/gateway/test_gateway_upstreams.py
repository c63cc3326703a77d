"""Upstreams that fail: down (502 naming it), several for one model (failover), too slow
(504 after the configured first-byte timeout) and silent mid-stream (cut off)."""

import os
import subprocess
import time

import pytest
import requests

from .conftest import ARTIFACTS, chat_body, openai_client, post
from .helpers import ClosedPort, StandinUpstream, free_port, tail


def put_upstream(gw, name: str, url: str, models: list[str]):
    resp = gw.admin_api("PUT", f"/admin/api/upstreams/{name}", json={"url": url,
                                                                      "models": models})
    assert resp.status_code == 200, f"PUT upstream {name}: {resp.status_code} {resp.text[:300]}"


def upstream_health(gw) -> dict:
    return {u["name"]: u["healthy"]
            for u in gw.admin_api("GET", "/admin/api/upstreams").json()["upstreams"]}


def test_upstream_down_is_502_naming_it(gw, alice, upstream):
    with ClosedPort() as closed:
        put_upstream(gw, "gw-deadend", closed.url, ["gw-dead-model"])
        for _ in range(2):  # also once it is known to be down
            resp = post(gw, "/v1/chat/completions", alice.key,
                        json=chat_body(model="gw-dead-model"))
            assert resp.status_code == 502, resp.text
            detail = resp.json()["detail"]
            assert "gw-deadend" in detail, f"the detail should name the upstream: {detail!r}"
    # Other models are still served.
    assert post(gw, "/v1/chat/completions", alice.key, json=chat_body()).status_code == 200


def test_failover_past_an_upstream_on_a_closed_port(gw, alice, standin, admin_changes):
    with ClosedPort() as closed:
        put_upstream(gw, "gw-fail-dead", closed.url, ["gw-failover"])
        put_upstream(gw, "gw-fail-live", standin.url, ["gw-failover"])
        client = openai_client(gw.base_url, alice.key)
        for i in range(6):
            answer = client.chat.completions.create(
                model="gw-failover", messages=[{"role": "user", "content": f"request {i}"}])
            assert answer.choices[0].message.content == "tok0 tok1 tok2 "


def test_failover_when_an_upstream_goes_down(gw, alice, standin, standin_bin, admin_changes):
    """Both upstreams answer when registered; then one stops. Requests must not fail: the
    first request routed to the stopped one is retried on the other."""
    doomed = StandinUpstream(standin_bin, ["gw-failover"], ARTIFACTS / "standin-doomed.log")
    doomed.start()
    try:
        put_upstream(gw, "gw-doomed", doomed.url, ["gw-failover"])
        put_upstream(gw, "gw-survivor", standin.url, ["gw-failover"])
        assert upstream_health(gw)["gw-doomed"] is True
    finally:
        doomed.stop()
    client = openai_client(gw.base_url, alice.key)
    for i in range(6):
        answer = client.chat.completions.create(
            model="gw-failover", messages=[{"role": "user", "content": f"request {i}"}])
        assert answer.choices[0].message.content == "tok0 tok1 tok2 "
    assert upstream_health(gw)["gw-doomed"] is False


# --- timeouts, on a second gatehouse: a replica of the session's, with a config file ---


class Replica:
    """A second `gatehouse serve` sharing the session gatehouse's database and secret key
    (as replicas do), with its own data dir, port and config file."""

    def __init__(self, primary, config_text: str, tmp_path):
        self.primary = primary
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config = tmp_path / "gatehouse.toml"
        self.config.write_text(config_text)
        self.data_dir = tmp_path / "replica-data"
        self.log_path = ARTIFACTS / "gatehouse-replica.log"
        self.process = None

    def start(self, timeout: float = 30):
        shared = self.primary.data_dir
        env = {**os.environ, "GATEHOUSE_ADMIN_TOKEN": self.primary.admin_token,
               "GATEHOUSE_SECRET_KEY_FILE": str(shared / "secret.key")}
        env.setdefault("RUST_LOG", "info")
        cmd = [str(self.primary.binary), "serve", "--listen", f"127.0.0.1:{self.port}",
               "--public-url", self.base_url, "--data-dir", str(self.data_dir),
               "--database-url", f"sqlite://{shared / 'gatehouse.db'}?mode=rwc",
               "--config", str(self.config)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"replica did not start:\n{tail(self.log_path)}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def slow_replica(gw, standin, tmp_path):
    replica = Replica(gw, f"""
[gateway]
first_byte_timeout_seconds = 2
idle_timeout_seconds = 2

[[upstreams]]
name = "gw-slow"
url = "{standin.url}"
models = ["gw-slow-model"]
""", tmp_path)
    try:
        replica.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    yield replica
    replica.stop()


def test_slow_upstream_is_504_after_the_first_byte_timeout(slow_replica, alice):
    # The replica accepts the key issued by the session's gatehouse and answers quickly...
    resp = post(slow_replica, "/v1/chat/completions", alice.key,
                json=chat_body(model="gw-slow-model"))
    assert resp.status_code == 200, resp.text

    # ...but gives up on an upstream that sends nothing for longer than 2 s.
    started = time.monotonic()
    resp = post(slow_replica, "/v1/chat/completions", alice.key,
                json=chat_body(model="gw-slow-model",
                               standin={"first_byte_delay_ms": 6000}))
    elapsed = time.monotonic() - started
    assert resp.status_code == 504, resp.text
    detail = resp.json()["detail"]
    assert "gw-slow" in detail and "2 s" in detail, detail
    assert 1.5 <= elapsed < 5, f"answered after {elapsed:.1f} s; the timeout is 2 s"


def test_upstream_silent_mid_stream_is_cut_off(slow_replica, alice):
    """A stream whose upstream goes quiet longer than the idle timeout (2 s) ends early:
    the client gets the first chunk and then a broken stream, never a [DONE]."""
    started = time.monotonic()
    resp = requests.post(f"{slow_replica.base_url}/v1/chat/completions", stream=True,
                         timeout=30, headers={"Authorization": f"Bearer {alice.key}"},
                         json=chat_body(model="gw-slow-model", stream=True,
                                        standin={"chunks": 3, "chunk_delay_ms": 6000}))
    assert resp.status_code == 200
    lines = []
    broken = False
    try:
        for line in resp.iter_lines(decode_unicode=True):
            if line:
                lines.append(line)
    except requests.exceptions.ChunkedEncodingError:
        broken = True
    elapsed = time.monotonic() - started
    assert lines and "tok0" in lines[0], lines
    assert "data: [DONE]" not in lines, f"the stream ended normally: {lines}"
    assert broken, "the cut-off stream should end with an error, not look complete"
    assert elapsed < 5.5, f"the stream was cut after {elapsed:.1f} s; the idle timeout is 2 s"


def test_upstream_gets_its_own_key_never_the_users(gw, alice, standin, admin_changes):
    secret = "upstream-secret-" + alice.key[-8:]
    resp = gw.admin_api("PUT", "/admin/api/upstreams/gw-keyed",
                        json={"url": standin.url, "models": ["gw-keyed-model"],
                              "api_key": secret})
    assert resp.status_code == 200, resp.text
    assert secret not in resp.text, "the admin API returned the upstream's key"
    listed = {u["name"]: u for u in resp.json()["upstreams"]}
    assert listed["gw-keyed"]["api_key_set"] is True

    resp = post(gw, "/v1/chat/completions", alice.key, json=chat_body(model="gw-keyed-model"))
    assert resp.status_code == 200, resp.text
    headers = standin.last_request()["headers"]
    assert headers.get("authorization") == f"Bearer {secret}"
    assert alice.key not in str(headers)
