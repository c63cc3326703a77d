"""Teams from Keycloak groups: the mapping table decides the team at sign-in, a person covered
by several mappings chooses on their page, and the policy for people no mapping covers."""

import pytest

from support.flows import expect_error_page, expect_signed_out, sign_in


@pytest.fixture
def team_mappings(keycloak_configured):
    gatehouse = keycloak_configured
    for team in ("backend", "eng"):
        assert gatehouse.admin_api("PUT", f"/admin/api/teams/{team}", json={}).status_code == 200
    for body in ({"group_path": "/engineering", "team": "eng", "priority": 20},
                 {"group_path": "engineering/backend/", "team": "backend", "priority": 10}):
        answer = gatehouse.admin_api("PUT", "/admin/api/group-mappings", json=body)
        assert answer.status_code == 200, answer.text
    yield gatehouse
    for path in ("/engineering", "/engineering/backend"):
        gatehouse.admin_api("DELETE", f"/admin/api/group-mappings?group_path={path}")
    gatehouse.admin_api("PUT", "/admin/api/group-mappings/policy",
                        json={"unmapped_users": "default_team"})


def test_mapping_decides_the_team_and_the_user_can_choose(team_mappings, page):
    gatehouse = team_mappings
    listed = gatehouse.admin_api("GET", "/admin/api/group-mappings").json()
    assert [m["group_path"] for m in listed["mappings"]] == ["/engineering/backend", "/engineering"]

    sign_in(page, gatehouse.base_url, "alice")  # alice is in /engineering/backend
    assert page.text_content("#team").strip() == "backend"
    options = page.locator("#team-select option").all_text_contents()
    assert options == ["backend", "eng"]

    page.select_option("#team-select", "eng")
    page.click("#choose-team")
    page.wait_for_url(f"{gatehouse.base_url}/me")
    assert page.text_content("#team").strip() == "eng"
    user = gatehouse.admin_api("GET", "/admin/api/users/alice").json()
    assert user["team"] == "eng"


def test_unmapped_people_join_the_default_team_or_are_refused(team_mappings, page, new_page):
    gatehouse = team_mappings
    sign_in(page, gatehouse.base_url, "dave")  # dave is only in /sales
    assert page.text_content("#team").strip() == "default"

    answer = gatehouse.admin_api("PUT", "/admin/api/group-mappings/policy",
                                 json={"unmapped_users": "refuse"})
    assert answer.status_code == 200 and answer.json()["unmapped_users"] == "refuse"
    refused = new_page()
    refused.goto(f"{gatehouse.base_url}/login")
    refused.click("a#continue-keycloak")
    refused.fill("#username", "carol")  # carol is in no group at all
    refused.fill("#password", "carol-pass-123")
    refused.click("#kc-login")
    expect_error_page(refused, "not_in_a_team")
    expect_signed_out(refused, gatehouse.base_url)


def test_mapping_to_a_missing_team_is_refused_with_a_detail(keycloak_configured):
    answer = keycloak_configured.admin_api(
        "PUT", "/admin/api/group-mappings", json={"group_path": "/sales", "team": "no-such-team"})
    assert answer.status_code == 400
    assert "no team named" in answer.json()["detail"]
