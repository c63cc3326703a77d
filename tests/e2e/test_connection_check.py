"""The connection check names each Keycloak misconfiguration of the guide, and only that one:
each broken_* client of the test realm gets exactly one step wrong."""

import subprocess

import pytest

CHECK_IDS = ["discovery", "client_secret", "service_account", "view_users", "redirect_uri",
             "direct_grants", "clock"]


def run_check(gatehouse):
    answer = gatehouse.admin_api("GET", "/admin/api/keycloak/check")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [c["id"] for c in report["checks"]] == CHECK_IDS
    return report


def failures(report):
    return [c["id"] for c in report["checks"] if c["outcome"] == "fail"]


def test_the_guides_client_passes_every_check(keycloak_configured):
    report = run_check(keycloak_configured)
    assert report["ok"] is True, report
    assert all(c["outcome"] == "pass" for c in report["checks"])


@pytest.mark.parametrize("client_id, secret, problem", [
    ("refact_client", "wrong-secret-for-the-check", "client_secret"),
    ("broken_no_service_account", "broken_no_service_account-secret", "service_account"),
    ("broken_no_view_users", "broken_no_view_users-secret", "view_users"),
    ("broken_redirect", "broken_redirect-secret", "redirect_uri"),
    ("broken_no_direct_grants", "broken_no_direct_grants-secret", "direct_grants"),
])
def test_each_misconfiguration_is_named_alone(keycloak_configured, client_id, secret, problem):
    keycloak_configured.configure_keycloak(client_id=client_id, client_secret=secret)
    report = run_check(keycloak_configured)
    assert report["ok"] is False
    assert failures(report) == [problem], report
    failed = next(c for c in report["checks"] if c["id"] == problem)
    assert failed["fix"].startswith("In Keycloak:"), failed


def test_wrong_realm_fails_discovery_and_skips_the_rest(keycloak_configured):
    keycloak_configured.configure_keycloak(realm="no-such-realm")
    report = run_check(keycloak_configured)
    assert failures(report) == ["discovery"]
    assert all(c["outcome"] == "skipped" for c in report["checks"][1:])


def test_command_line_and_console_show_the_check(keycloak_configured, page):
    gatehouse = keycloak_configured
    gatehouse.configure_keycloak(client_id="broken_redirect", client_secret="broken_redirect-secret")
    done = subprocess.run([str(gatehouse.binary), "keycloak", "check", "--server", gatehouse.base_url],
                          env={"GATEHOUSE_ADMIN_TOKEN": gatehouse.admin_token},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "FAIL  Valid Redirect URIs cover gatehouse" in done.stdout
    assert f"add {gatehouse.base_url}/* to Valid redirect URIs" in done.stdout

    from support.flows import admin_login
    admin_login(page, gatehouse.base_url, gatehouse.admin_token)
    page.goto(f"{gatehouse.base_url}/admin/settings/auth")
    page.click("#test-connection")
    row = page.wait_for_selector('#connection-check tr[data-check="redirect_uri"]')
    assert "fail" in row.text_content() and "Valid redirect URIs" in row.text_content()
