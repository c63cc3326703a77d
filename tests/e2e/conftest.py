"""Fixtures for the end-to-end tests: real Keycloak, the real gatehouse binary, headless Chromium.

Environment: KEYCLOAK_URL (default http://127.0.0.1:18080, started by scripts/keycloak) and
GATEHOUSE_BIN (default target/debug/gatehouse). On failure a screenshot of `page` goes to
.cache/e2e-artifacts/ and the tail of gatehouse's log is added to the report.
"""

import os
import re
import secrets
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from support.gatehouse import GatehouseServer
from support.kc_proxy import KeycloakProxy
from support.keycloak_admin import KeycloakAdmin

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", REPO / ".cache" / "e2e-artifacts"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def keycloak_url() -> str:
    url = os.environ.get("KEYCLOAK_URL", "http://127.0.0.1:18080").rstrip("/")
    discovery = f"{url}/realms/gatehouse/.well-known/openid-configuration"
    try:
        status = requests.get(discovery, timeout=10).status_code
    except requests.RequestException as err:
        pytest.fail(f"Keycloak unreachable at {url} ({err}); start it: scripts/keycloak start")
    if status != 200:
        pytest.fail(f"{discovery} answered {status}: is the gatehouse realm imported?")
    return url


@pytest.fixture(scope="session")
def gatehouse(keycloak_url, tmp_path_factory):
    binary = Path(os.environ.get("GATEHOUSE_BIN", REPO / "target" / "debug" / "gatehouse"))
    server = GatehouseServer(
        binary=binary,
        data_dir=tmp_path_factory.mktemp("gatehouse-data"),
        log_path=ARTIFACTS / "gatehouse.log",
        admin_token=secrets.token_urlsafe(30),  # 40 characters
        keycloak_url=keycloak_url,
        pid_file=REPO / ".cache" / "e2e-gatehouse.pid",
    )
    try:
        server.start()
    except RuntimeError as err:
        pytest.fail(str(err))
    yield server
    server.stop()


@pytest.fixture
def keycloak_configured(gatehouse):
    """Working Keycloak settings for the test, put back afterwards whatever the test changed."""
    gatehouse.configure_keycloak()
    yield gatehouse
    gatehouse.configure_keycloak()


@pytest.fixture(scope="session")
def kc_admin(keycloak_url) -> KeycloakAdmin:
    return KeycloakAdmin(keycloak_url)


@pytest.fixture(scope="session")
def _kc_proxy_server(keycloak_url):
    with KeycloakProxy(upstream=keycloak_url) as proxy:
        yield proxy


@pytest.fixture
def kc_proxy(_kc_proxy_server):
    """The Keycloak proxy on 127.0.0.1:18081, in passthrough mode at the start of each test."""
    _kc_proxy_server.mode = "passthrough"
    _kc_proxy_server.rewrites = 0
    yield _kc_proxy_server
    _kc_proxy_server.mode = "passthrough"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Opens pages in fresh browser contexts (no shared cookies); all closed after the test."""
    contexts = []

    def open_page():
        context = browser.new_context()
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.when in ("setup", "call"):
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
        page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if page is not None and not page.is_closed():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"{name}.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                report.sections.append(("screenshot", f"{shot} (page was {page.url})"))
            except Exception as err:  # a broken page must not hide the real failure
                report.sections.append(("screenshot", f"failed: {err}"))
        server = item.funcargs.get("gatehouse") if hasattr(item, "funcargs") else None
        if server is not None:
            report.sections.append(("gatehouse log (last 60 lines)", server.log_tail(60)))
    return report
