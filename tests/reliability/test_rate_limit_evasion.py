"""The rate limit cannot be sidestepped: only credentials that verify get their own bucket,
everything else counts on the client address, and the address comes from `X-Forwarded-For`
only when the peer is a proxy listed in FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import TenantOwner
from visage.core.security import create_access_token
from visage.identity.models import Tenant

ME = "/api/v1/auth/me"


def _statuses(
    client: TestClient, count: int, headers: Callable[[int], dict[str, str]]
) -> Counter[int]:
    return Counter(client.get(ME, headers=headers(i)).status_code for i in range(count))


def test_rotating_fake_api_keys_count_on_the_address(
    limited_client: Callable[..., TestClient],
) -> None:
    client = limited_client(120)
    statuses = _statuses(
        client,
        130,
        lambda i: {"X-API-Key": f"vsk_{secrets.token_urlsafe(32)}" if i % 2 else str(i)},
    )
    assert statuses == {401: 120, 429: 10}
    # The address itself is spent: a request without any credential is refused too.
    assert client.get(ME).status_code == 429


def test_forged_and_foreign_tokens_count_on_the_address(
    limited_client: Callable[..., TestClient],
) -> None:
    client = limited_client(10)

    def forged(i: int) -> dict[str, str]:
        token = create_access_token(
            secrets.token_urlsafe(48), subject=uuid.uuid4(), expires_minutes=5
        )
        return {"Authorization": f"Bearer {token}" if i % 2 else f"Bearer junk{i}"}

    assert _statuses(client, 12, forged) == {401: 10, 429: 2}


def test_kiosks_and_staff_behind_one_address_keep_their_own_budgets(
    limited_client: Callable[..., TestClient],
    make_tenant_owner: Callable[[], TenantOwner],
    device_headers: Callable[[Tenant], dict[str, str]],
) -> None:
    owner = make_tenant_owner()
    front_door, side_door = device_headers(owner.tenant), device_headers(owner.tenant)
    client = limited_client(5)
    assert _statuses(client, 6, lambda _: {}) == {401: 5, 429: 1}  # the address is spent
    # The gym's staff and each kiosk still get their own five.
    assert _statuses(client, 5, lambda _: owner.headers) == {200: 5}
    assert client.get(ME, headers=owner.headers).status_code == 429
    for kiosk in (front_door, side_door):  # a kiosk may not read /me: 403, yet not limited
        assert _statuses(client, 6, lambda _, key=kiosk: key) == {403: 5, 429: 1}


def test_a_personal_api_token_has_its_users_budget_and_a_made_up_one_does_not(
    limited_client: Callable[..., TestClient],
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
) -> None:
    owner = make_tenant_owner()
    created = client.post("/api/v1/auth/tokens", json={"name": "ci"}, headers=owner.headers)
    assert created.status_code == 201, created.text
    token = {"Authorization": f"Token {created.json()['token']}"}
    limited = limited_client(4)
    made_up = _statuses(limited, 5, lambda i: {"Authorization": f"Token vst_{i}{'x' * 30}"})
    assert made_up == {401: 4, 429: 1}  # the address is spent by made-up tokens
    assert _statuses(limited, 4, lambda _: token) == {200: 4}
    assert limited.get(ME, headers=token).status_code == 429


def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    limited_client: Callable[..., TestClient],
) -> None:
    client = limited_client(3, peer="203.0.113.9", forwarded_allow_ips="10.0.0.0/8")
    statuses = _statuses(client, 4, lambda i: {"X-Forwarded-For": f"198.51.100.{i}"})
    assert statuses == {401: 3, 429: 1}


def test_forwarded_for_is_ignored_when_no_proxy_is_listed(
    limited_client: Callable[..., TestClient],
) -> None:
    client = limited_client(3, peer="127.0.0.1")
    statuses = _statuses(client, 4, lambda i: {"X-Forwarded-For": f"198.51.100.{i}"})
    assert statuses == {401: 3, 429: 1}


def test_forwarded_for_from_a_listed_proxy_names_the_client(
    limited_client: Callable[..., TestClient],
) -> None:
    client = limited_client(3, peer="10.0.0.2", forwarded_allow_ips="10.0.0.0/8")
    # Two clients behind the proxy: each has its own budget, the proxy spends none of it.
    for address in ("198.51.100.7", "198.51.100.8"):
        statuses = _statuses(client, 4, lambda _, peer=address: {"X-Forwarded-For": peer})
        assert statuses == {401: 3, 429: 1}
    # A client forging the header in front of the proxy is named by the proxy's last hop.
    spoofed = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}
    assert client.get(ME, headers=spoofed).status_code == 429
