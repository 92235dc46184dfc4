"""Whatever a client sends to any documented operation, the answer is never a 5xx.

Schemathesis generates requests from the app's own OpenAPI document, so routes added later
are covered without touching this file. It runs as a tenant owner (the widest tenant role).
(Driven through Hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.)
"""

from collections.abc import Callable

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import TenantOwner

# Calls that would end the fuzzing owner's session, or trip the per-address login lockout
# that later tests share; tests/identity covers them.
SESSION_ENDING = (
    r"^/api/v1/(auth/(login|logout|refresh)|attendees/login|users/\{user_id\}/deactivate)$"
)
EXAMPLES_PER_OPERATION = 8


def test_no_request_gets_a_server_error(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures: list[str] = []
    tested = 0
    for result in schema.exclude(path_regex=SESSION_ENDING).get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=owner.headers)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            never_a_server_error()
        except (AssertionError, ExceptionGroup) as failure:
            failures.append(f"{operation.label}: {failure}")
        tested += 1
    assert tested > 50  # the whole API was walked, not an empty schema
    assert not failures, "\n\n".join(failures)
