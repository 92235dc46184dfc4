"""The web app's server side without a browser: where pages live, their security headers, and
fragments authorized and tenant-scoped like the API they mirror."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from visage.identity.models import Role, Tenant, User


@pytest.fixture
def headers_of_new(
    make_tenant: Callable[..., Tenant],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
) -> Callable[[Role], dict[str, str]]:
    """Bearer headers of a new user with `role`, in a tenant of their own (none for admins)."""

    def headers(role: Role) -> dict[str, str]:
        tenant = None if role is Role.SUPER_ADMIN else make_tenant()
        return auth_headers(make_user(tenant, role))

    return headers


PAGES = [
    "/app/",
    "/app/login",
    "/app/logout",
    "/app/forgot-password",
    "/reset-password?token=abc",
    "/verify-email?token=abc",
    "/app/kiosk",
    "/e/ABCDEFGH",
    "/app/checkins",
    "/app/members",
    "/app/members/00000000-0000-0000-0000-000000000000",
    "/app/plans",
    "/app/tenants",
    "/app/account",
    "/app/settings",
    "/app/users",
    "/app/kiosks",
    "/app/tokens",
    "/app/audit",
    "/app/events",
    "/app/events/00000000-0000-0000-0000-000000000000",
]


def test_root_answers_api_clients_with_json_and_sends_browsers_to_the_app(
    client: TestClient,
) -> None:
    assert client.get("/").json()["message"] == "API is running"
    browser = client.get("/", headers={"Accept": "text/html,*/*"}, follow_redirects=False)
    assert browser.status_code == 307
    assert browser.headers["location"] == "/app/"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_that_runs_only_our_own_scripts(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "same-origin"  # reset tokens stay here
    assert "<script>" not in page.text  # no inline script: the policy would block it
    assert '<html lang="en">' in page.text


def test_vendored_assets_are_served_from_the_package(client: TestClient) -> None:
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text
    assert client.get("/static/vendor/htmx-LICENSE.txt").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_fragments_need_a_signed_in_user_with_the_permission(
    client: TestClient, headers_of_new: Callable[[Role], dict[str, str]]
) -> None:
    anonymous = client.get("/app/fragments/members")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"]
    photographer = headers_of_new(Role.PHOTOGRAPHER)
    assert client.get("/app/fragments/members", headers=photographer).status_code == 403
    assert client.get("/app/fragments/events", headers=photographer).status_code == 200
    owner = headers_of_new(Role.TENANT_OWNER)
    assert client.get("/app/fragments/tenants", headers=owner).status_code == 403
    admin = headers_of_new(Role.SUPER_ADMIN)
    assert client.get("/app/fragments/tenants", headers=admin).status_code == 200


def test_member_fragments_show_only_the_tenants_own_members_escaped(
    client: TestClient, headers_of_new: Callable[[Role], dict[str, str]]
) -> None:
    ours = headers_of_new(Role.STAFF)
    theirs = headers_of_new(Role.STAFF)
    name = "<script>alert(1)</script> Ada"
    mine = client.post("/api/v1/members", json={"full_name": name}, headers=ours).json()
    other = client.post("/api/v1/members", json={"full_name": "Grace Other"}, headers=theirs)

    listed = client.get("/app/fragments/members", headers=ours)
    assert listed.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ada" in listed.text
    assert "<script>" not in listed.text
    assert "Grace Other" not in listed.text
    assert f'href="/app/members/{mine["id"]}"' in listed.text

    other_id = other.json()["id"]
    assert client.get(f"/app/fragments/members/{other_id}", headers=ours).status_code == 404
    memberships = client.get(f"/app/fragments/members/{other_id}/memberships", headers=ours)
    assert memberships.status_code == 404


def test_dashboard_stats_fragment_draws_the_week(
    client: TestClient, headers_of_new: Callable[[Role], dict[str, str]]
) -> None:
    headers = headers_of_new(Role.TENANT_OWNER)
    stats = client.get("/app/fragments/stats", headers=headers)
    assert stats.status_code == 200
    assert stats.text.count('class="bar"') == 7
    assert "Inside now" in stats.text


def test_member_list_pages_keep_the_search(
    client: TestClient, headers_of_new: Callable[[Role], dict[str, str]]
) -> None:
    headers = headers_of_new(Role.STAFF)
    for number in range(21):
        client.post("/api/v1/members", json={"full_name": f"Runner {number:02}"}, headers=headers)
    client.post("/api/v1/members", json={"full_name": "Someone Else"}, headers=headers)

    first = client.get("/app/fragments/members?q=runner", headers=headers).text
    assert "Page 1 of 2 · 21 members" in first
    assert 'hx-get="/app/fragments/members?q=runner&amp;page=2"' in first
    second = client.get("/app/fragments/members?q=runner&page=2", headers=headers).text
    assert second.count('href="/app/members/') == 1
    assert "Someone Else" not in first + second


def test_filter_forms_may_leave_fields_empty(
    client: TestClient, headers_of_new: Callable[[Role], dict[str, str]]
) -> None:
    headers = headers_of_new(Role.TENANT_OWNER)
    empty = "allowed=&reason=&since=&until="
    assert client.get(f"/app/fragments/checkins?{empty}", headers=headers).status_code == 200
    audit = client.get("/app/fragments/audit?action=&since=&until=", headers=headers)
    assert audit.status_code == 200
    bad_day = client.get("/app/fragments/audit?since=yesterday", headers=headers)
    assert bad_day.status_code == 422
