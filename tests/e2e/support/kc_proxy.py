"""Reverse proxy in front of Keycloak for negative tests: forwards unchanged, or tampers tokens.

Modes (switch with `proxy.mode = ...` at any time):
- passthrough: every request and response unchanged.
- tamper_signature: in responses of POST .../protocol/openid-connect/token, the id_token's
  signature is altered so it no longer verifies (still valid base64url).
- foreign_audience: in those responses the id_token is replaced by one minted by password grant
  for the same user on `other_client` (same issuer and keys, audience other_client).
- fail_groups: the admin API's group listings answer 503, as if Keycloak went down in the
  middle of a directory read (user listings still pass).
- drop_groups: those requests get no answer at all: the connection is closed, as when the
  Keycloak process is killed mid-read.

The Host header is forwarded as the client sent it, so Keycloak (hostname-strict=false) derives
its issuer from the proxy's address. Redirects are passed back, never followed.
"""

import base64
import http.client
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("passthrough", "tamper_signature", "foreign_audience", "fail_groups", "drop_groups")
TOKEN_PATH_SUFFIX = "/protocol/openid-connect/token"
# Hop-by-hop headers (RFC 9110 section 7.6.1): meaningful for one connection only.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "transfer-encoding", "upgrade",
}


def tamper_signature(jwt: str) -> str:
    """Returns the JWT with one bit of its signature flipped, still canonical base64url."""
    header, payload, signature = jwt.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return ".".join([header, payload, base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")])


class KeycloakProxy:
    """A threaded reverse proxy to Keycloak; use start() and stop(), or as a context manager."""

    def __init__(self, upstream="http://127.0.0.1:18080", host="127.0.0.1", port=18081,
                 foreign_client="other_client", username="alice", password="alice-pass-123"):
        parsed = urllib.parse.urlsplit(upstream)
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.host, self.port = host, port
        self.foreign_client = foreign_client
        self.username, self.password = username, password
        self.mode = "passthrough"
        self.rewrites = 0  # how many token responses were altered, for tests to assert on
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self):
        handler = type("Handler", (_ProxyHandler,), {"proxy": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def forward(self, method, path, headers, body):
        """Sends one request upstream; returns (status, reason, header list, body bytes)."""
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()  # http.client undoes chunking
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()

    def mint_foreign_id_token(self, token_path, host_header):
        """Password grant on the foreign client, through this proxy's Host so iss matches."""
        form = urllib.parse.urlencode({
            "grant_type": "password", "client_id": self.foreign_client, "scope": "openid",
            "username": self.username, "password": self.password,
        }).encode()
        headers = {"Host": host_header, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, _, data = self.forward("POST", token_path, headers, form)
        if status != 200:
            raise RuntimeError(f"minting a foreign ID token failed: {status} {data[:200]!r}")
        return json.loads(data)["id_token"]

    def rewrite_token_response(self, data, token_path, host_header):
        """Applies the current mode to a token endpoint's JSON body."""
        try:
            tokens = json.loads(data)
        except ValueError:
            return data
        if not isinstance(tokens, dict) or "id_token" not in tokens:
            return data
        if self.mode == "tamper_signature":
            tokens["id_token"] = tamper_signature(tokens["id_token"])
        elif self.mode == "foreign_audience":
            tokens["id_token"] = self.mint_foreign_id_token(token_path, host_header)
        self.rewrites += 1
        return json.dumps(tokens).encode()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: KeycloakProxy  # set on the subclass made in KeycloakProxy.start

    def log_message(self, *args):
        pass  # keep test output clean

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def handle_any(self):
        proxy = self.proxy
        body = self.read_body()
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        path_only = self.path.split("?", 1)[0]
        rewrite = (self.command == "POST" and path_only.endswith(TOKEN_PATH_SUFFIX)
                   and proxy.mode != "passthrough")
        if rewrite:
            # A token body we may rewrite must come back uncompressed.
            headers = [(k, v) for k, v in headers if k.lower() != "accept-encoding"]
        if body is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))

        admin_groups = "/admin/realms/" in path_only and "/groups" in path_only
        if proxy.mode == "fail_groups" and admin_groups:
            self.send_error(503, "Keycloak stopped (simulated by the test proxy)")
            return
        if proxy.mode == "drop_groups" and admin_groups:
            self.close_connection = True  # no status line: the socket just closes
            return

        try:
            status, reason, resp_headers, data = proxy.forward(
                self.command, self.path, _HeaderList(headers), body)
        except OSError as err:
            self.send_error(502, f"Keycloak unreachable through proxy: {err}")
            return

        if rewrite and status == 200:
            data = proxy.rewrite_token_response(data, path_only, self.headers.get("Host", ""))

        self.send_response(status, reason)
        for key, value in resp_headers:
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                self.send_header(key, value)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if not no_body:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not no_body:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = handle_any


class _HeaderList:
    """Lets http.client send repeated headers, in order (a dict cannot hold them)."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter([k for k, _ in self.pairs])

    def items(self):
        return list(self.pairs)
