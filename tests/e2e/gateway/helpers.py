"""Helpers for the gateway tests and the benchmark (bench/run imports this file too).

- sign_in(): a user's Keycloak sign-in without a browser (requests + the HTML of the pages),
  ending on gatehouse's /me with the user's Plugin API Key;
- StandinUpstream: the stand-in inference server (examples/standin_upstream.rs) as a subprocess;
- ClosedPort: a loopback port on which nothing listens, for "upstream down" cases;
- BurstUpstream: an in-process upstream that streams small events with TCP_NODELAY.

Only the standard library and requests, so that the benchmark can use it outside pytest.
"""

import html.parser
import os
import re
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import requests

KEY_PATTERN = re.compile(r"^gk_[a-z0-9]{12}_[A-Za-z0-9]{40}$")
REDIRECTS = (301, 302, 303, 307, 308)


class SignInFailed(AssertionError):
    """The browserless sign-in did not end on /me; the message says where it stopped."""


class _PageParser(html.parser.HTMLParser):
    """Collects the forms of a page (attributes and inputs) and the text of elements by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []  # [{"attrs": {...}, "inputs": {name: value}}]
        self.texts = {}  # element id -> text content
        self._open_ids = []  # stack of (tag, id or None) for text capture
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"attrs": attrs, "inputs": {}}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and attrs.get("name"):
            self._form["inputs"][attrs["name"]] = attrs.get("value", "")
        if tag not in ("input", "br", "img", "meta", "link", "hr"):
            self._open_ids.append((tag, attrs.get("id")))
            if attrs.get("id"):
                self.texts.setdefault(attrs["id"], "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        for i in range(len(self._open_ids) - 1, -1, -1):
            if self._open_ids[i][0] == tag:
                del self._open_ids[i:]
                break

    def handle_data(self, data):
        for _, element_id in self._open_ids:
            if element_id:
                self.texts[element_id] += data

    def form(self, **match) -> dict | None:
        for form in self.forms:
            if all(form["attrs"].get(k) == v for k, v in match.items()):
                return form
        return None


def parse_page(text: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    return parser


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class LoopbackCookieJar(requests.cookies.RequestsCookieJar):
    """Keycloak marks its login cookies `Secure`; browsers still send them to http://127.0.0.1
    (loopback counts as a secure context), requests would not. This jar drops the flag for
    loopback cookies, so the sign-in behaves as in a browser."""

    def set_cookie(self, cookie, *args, **kwargs):
        if cookie.secure and cookie.domain.lstrip(".") in LOOPBACK:
            cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def _where(resp: requests.Response) -> str:
    snippet = re.sub(r"\s+", " ", resp.text[:400]) if resp.text else ""
    return f"{resp.request.method} {resp.url} -> {resp.status_code}: {snippet}"


class SignedInUser:
    """A user signed in to gatehouse through Keycloak, holding gatehouse's session cookie."""

    def __init__(self, base_url: str, username: str, password: str,
                 public_url: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        # Where gatehouse tells Keycloak to send the browser back; redirects to it are sent
        # to base_url instead (the role a reverse proxy plays when the two differ).
        self.public_url = (public_url or base_url).rstrip("/")
        self.username, self.password = username, password
        self.timeout = timeout
        self.http = requests.Session()
        self.http.cookies = LoopbackCookieJar()
        self.key = None
        self.csrf = None

    # --- the sign-in ---

    def _follow(self, resp: requests.Response, limit: int = 15) -> requests.Response:
        """Follows redirects by hand (GET each Location), keeping cookies."""
        for _ in range(limit):
            if resp.status_code not in REDIRECTS:
                return resp
            target = urllib.parse.urljoin(resp.url, resp.headers["Location"])
            if self.public_url != self.base_url and target.startswith(self.public_url + "/"):
                target = self.base_url + target[len(self.public_url):]
            resp = self.http.get(target, allow_redirects=False, timeout=self.timeout)
        raise SignInFailed(f"more than {limit} redirects; last: {_where(resp)}")

    def sign_in(self) -> "SignedInUser":
        """Start on gatehouse, Keycloak's login form, back to the callback and on to /me."""
        self.http.cookies.clear()
        start = self.http.get(f"{self.base_url}/auth/keycloak/start", allow_redirects=False,
                              timeout=self.timeout)
        if start.status_code not in REDIRECTS:
            raise SignInFailed(f"/auth/keycloak/start did not redirect: {_where(start)}")
        page = self._follow(start)
        if not self._is_me(page):
            form = parse_page(page.text).form(id="kc-form-login")
            if page.status_code != 200 or form is None:
                raise SignInFailed(f"expected Keycloak's login form: {_where(page)}")
            action = urllib.parse.urljoin(page.url, form["attrs"]["action"])
            fields = {**form["inputs"], "username": self.username, "password": self.password}
            posted = self.http.post(action, data=fields, allow_redirects=False,
                                    timeout=self.timeout)
            if posted.status_code not in REDIRECTS:
                errors = parse_page(posted.text).texts
                message = next((errors[k].strip() for k in errors if "error" in k
                                and errors[k].strip()), "")
                raise SignInFailed(f"Keycloak refused the sign-in ({message!r}): "
                                   f"{_where(posted)}")
            page = self._follow(posted)
        if not self._is_me(page):
            raise SignInFailed(f"sign-in did not end on /me: {_where(page)}")
        self._read_me(page)
        return self

    def _is_me(self, resp: requests.Response) -> bool:
        return (resp.status_code == 200
                and urllib.parse.urlsplit(resp.url).path == "/me"
                and resp.url.startswith(self.base_url))

    def _read_me(self, resp: requests.Response):
        page = parse_page(resp.text)
        key = page.texts.get("plugin-key", "").strip()
        self.key = key or None
        form = page.form(id="regenerate-form")
        self.csrf = form["inputs"].get("csrf") if form else None

    # --- the /me page ---

    def me(self) -> requests.Response | None:
        """GETs /me and reads key and CSRF token from it; None when the session has ended."""
        resp = self.http.get(f"{self.base_url}/me", allow_redirects=False, timeout=self.timeout)
        if resp.status_code != 200:
            return None
        self._read_me(resp)
        return resp

    def regenerate_key(self) -> requests.Response:
        """Presses "Regenerate key" on /me (POST /me/key with the page's CSRF field)."""
        if self.me() is None:
            raise SignInFailed(f"{self.username}'s gatehouse session has ended")
        resp = self.http.post(f"{self.base_url}/me/key", data={"csrf": self.csrf},
                              allow_redirects=False, timeout=self.timeout)
        if resp.status_code in REDIRECTS:
            resp = self._follow(resp)
        if self._is_me(resp):
            self._read_me(resp)
        return resp

    def ensure_key(self) -> str:
        """A usable key: signs in again if the session ended, issues a key if there is none."""
        if self.me() is None:
            self.sign_in()
        if not self.key:
            self.regenerate_key()
        if not self.key or not KEY_PATTERN.match(self.key):
            raise SignInFailed(f"no well-formed Plugin API Key on /me for {self.username}: "
                               f"{self.key!r}")
        return self.key


def sign_in(base_url: str, username: str, password: str | None = None,
            public_url: str | None = None) -> SignedInUser:
    """Signs `username` in without a browser; the result holds their key and session."""
    user = SignedInUser(base_url, username, password or f"{username}-pass-123", public_url)
    return user.sign_in()


# --- processes and ports ---


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClosedPort:
    """A loopback port bound but never listening: connections are refused, and no other
    process can take the port while this object lives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class StandinUpstream:
    """examples/standin_upstream as a subprocess on a free loopback port."""

    def __init__(self, binary: Path, models: list[str], log_path: Path, threads: int = 1,
                 port: int | None = None):
        self.binary, self.models, self.log_path = Path(binary), list(models), Path(log_path)
        self.threads = threads
        self.port = port
        self.process = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The address to register with gatehouse (OpenAI style, with /v1)."""
        return f"{self.base}/v1"

    def start(self, timeout: float = 15) -> "StandinUpstream":
        if not self.binary.is_file():
            raise RuntimeError(f"stand-in upstream not found at {self.binary}: run "
                               "`cargo build --examples` (or set STANDIN_BIN)")
        fixed_port = self.port is not None
        for _ in range(3):  # a free port can be taken between probing and binding
            if not fixed_port:
                self.port = free_port()
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            env = {**os.environ, "STANDIN_THREADS": str(self.threads)}
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [str(self.binary), "--listen", f"127.0.0.1:{self.port}",
                     "--models", ",".join(self.models)],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if requests.get(f"{self.url}/models", timeout=1).status_code == 200:
                        return self
                except requests.RequestException:
                    time.sleep(0.05)
            self.stop()
            if fixed_port:
                break
        raise RuntimeError(f"stand-in upstream did not start:\n{tail(self.log_path)}")

    def last_request(self) -> dict:
        return requests.get(f"{self.base}/standin/last-request", timeout=5).json()

    def streams(self) -> dict:
        """Streamed answers so far: started, finished, and dropped before their end."""
        return requests.get(f"{self.base}/standin/streams", timeout=5).json()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class BurstUpstream:
    """A minimal OpenAI-style upstream (threads, standard library) that streams server-sent
    events as separate small TCP writes with TCP_NODELAY, `gap_ms` apart: what a fast inference
    server does. With it, any delay between events seen by a client comes from the way
    between them, e.g. Nagle's algorithm on a proxy's socket meeting the client's delayed ACKs.
    Request body: {"model": ..., "stream": true, "burst": {"events": N, "gap_ms": G}}."""

    def __init__(self, models: list[str]):
        import http.server
        import json
        import threading

        models = list(models)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": m, "object": "model"}
                                                              for m in models]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                burst = request.get("burst", {})
                events, gap = int(burst.get("events", 5)), burst.get("gap_ms", 5) / 1000
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                for i in range(events + 1):
                    if i:
                        time.sleep(gap)
                    if i < events:
                        data = json.dumps({"object": "chat.completion.chunk", "model":
                                           request.get("model"), "choices": [
                                               {"index": 0, "delta": {"content": f"b{i} "}}]})
                    else:
                        data = "[DONE]"
                    event = f"data: {data}\n\n".encode()
                    self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "BurstUpstream":
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
