"""Whatever a client sends to any documented operation, the answer is never a 5xx.

Schemathesis generates requests (valid and invalid data) from the app's own OpenAPI document, so
routes added later are covered without touching this file. It runs as a tenant owner (the widest
tenant role), a staff user, a kiosk key and anonymously, with the rate limit lifted (the suite's
RATE_LIMIT_PER_MINUTE). FUZZ_SCALE multiplies the examples per operation (1 in CI: about 2,500
cases in a few minutes on 2 cores; 2 for the 5,000-case walk).
(Driven through Hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.)
"""

import os
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.conftest import TenantOwner
from tests.contracts import bluesky as bluesky_contract
from tests.contracts.server import serve
from visage.config import Settings
from visage.identity.models import Role, Tenant, User

# Calls that would end the fuzzing owner's session, or trip the per-address login lockout
# that later tests share; tests/identity covers them.
SESSION_ENDING = (
    r"^/api/v1/(auth/(login|logout|refresh)|attendees/login|users/\{user_id\}/deactivate)$"
)
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
# Examples per operation: most for the roles that get past authorization.
EXAMPLES = {"owner": 10, "staff": 8, "kiosk": 6, "anonymous": 5}


@pytest.fixture
def outside_world(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The outside services a route calls without further set-up, as contract servers: the walk
    looks for our 5xx, and without them a machine with no internet gets Bluesky's honest 503
    (SOCIAL_006, the platform unreachable) for every app-password sign-in."""
    with serve(bluesky_contract.create_app(bluesky_contract.BlueskyState())) as base:
        monkeypatch.setattr(settings, "bluesky_api_base_url", base)
        yield


@pytest.mark.parametrize("caller", list(EXAMPLES))
@pytest.mark.usefixtures("outside_world")
def test_no_request_gets_a_server_error(
    caller: str,
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    device_headers: Callable[[Tenant], dict[str, str]],
) -> None:
    owner = make_tenant_owner()
    headers = {
        "owner": lambda: owner.headers,
        "staff": lambda: auth_headers(make_user(owner.tenant, Role.STAFF)),
        "kiosk": lambda: device_headers(owner.tenant),
        "anonymous": dict,
    }[caller]()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    cases = 0
    for result in schema.exclude(path_regex=SESSION_ENDING).get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES[caller] * FUZZ_SCALE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            never_a_server_error()
        except (AssertionError, ExceptionGroup) as failure:
            failures.append(f"{operation.label}: {failure}")
        operations += 1
    print(f"fuzz as {caller}: {operations} operations, {cases} cases")
    assert operations > 50  # the whole API was walked, not an empty schema
    assert not failures, "\n\n".join(failures)
