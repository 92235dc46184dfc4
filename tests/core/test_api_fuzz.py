"""Whatever a client sends to any documented operation, the answer is never a 5xx.

Schemathesis generates requests (valid and invalid data) from the app's own OpenAPI document, so
routes added later are covered without touching this file. Every generated request is sent four
times: anonymously, with a kiosk key, as a staff user and as a tenant owner (the widest tenant
role), with the rate limit lifted (the suite's RATE_LIMIT_PER_MINUTE). Generating a request costs
about twice what the in-process call does, so one generated request serves the four callers.
The count of requests sent is printed and asserted: ≥ 5,000 in CI (FUZZ_SCALE multiplies the
examples per operation for a deeper walk). A second, stateful walk follows the links
schemathesis infers between operations, as the owner.
(Driven through Hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.)
"""

import os
from collections import Counter
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient

from tests.conftest import TenantOwner
from visage.identity.models import Role, Tenant, User

# Calls that would end the fuzzing owner's session, or trip the per-address login lockout
# that later tests share; tests/identity covers them.
# Under any prefix, with or without the trailing slash the guides' aliases use.
SESSION_ENDING = r"/(auth/(login|logout|refresh)|attendees/login|users/\{user_id\}/deactivate)/?$"
FUZZ_SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
EXAMPLES_PER_OPERATION = 9 * FUZZ_SCALE  # about 6,000 requests: a margin over the floor
# Stateful: sequences that follow the links schemathesis infers between operations (an id a
# create answered, used by the reads and updates of that object), as the owner. A step costs
# several times a stateless request (Hypothesis weighs some 1,600 inferred links at each), so
# there are few of them.
SEQUENCES = 20 * FUZZ_SCALE
STEPS_PER_SEQUENCE = 8
MIN_REQUESTS = 5_000 * FUZZ_SCALE
# Least privileged first: the owner's call may delete what the request names.
CALLERS = ("anonymous", "kiosk", "staff", "owner")


def case_strategy(operation: schemathesis.APIOperation) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid data; an operation with nothing to send has no invalid form, and
    drawing one would only be rejected."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    if not (operation.path_parameters or operation.query or operation.body):
        return positive
    return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE))


def in_process_session(client: TestClient) -> ASGIClient:
    """One requests session into the running app for every call: its lifespan (database,
    model) is the suite's, not started a second time; no cookie is kept from one caller's
    answer to the next caller's request, and no proxy or .netrc is looked up per call."""
    session = ASGIClient(client.app)
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


@pytest.mark.usefixtures("outside_world")
def test_no_request_gets_a_server_error(
    client: TestClient,
    make_tenant_owner: Callable[[], TenantOwner],
    make_user: Callable[..., User],
    auth_headers: Callable[[User], dict[str, str]],
    device_headers: Callable[[Tenant], dict[str, str]],
) -> None:
    owner = make_tenant_owner()
    headers_of = {
        "anonymous": {},
        "kiosk": device_headers(owner.tenant),
        "staff": auth_headers(make_user(owner.tenant, Role.STAFF)),
        "owner": owner.headers,
    }
    # Read through the suite's client: schemathesis' own loader would start the app's lifespan
    # a second time.
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    schema.app = client.app
    session = in_process_session(client)
    failures: list[str] = []
    operations = 0
    sent: Counter[str] = Counter()
    for result in schema.exclude(path_regex=SESSION_ENDING).get_all_operations():
        operation = result.ok()

        @given(case=case_strategy(operation))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        def never_a_server_error(case: schemathesis.Case) -> None:
            for caller in CALLERS:
                sent[caller] += 1
                response = case.call(session=session, headers=headers_of[caller])
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except (AssertionError, ExceptionGroup) as failure:
                    failure.add_note(f"as {caller}")
                    raise

        try:
            never_a_server_error()
        except (AssertionError, ExceptionGroup) as failure:
            failures.append(f"{operation.label}: {failure} ({' '.join(failure.__notes__)})")
        operations += 1
    total = sum(sent.values())
    by_caller = ", ".join(f"{sent[caller]} as {caller}" for caller in CALLERS)
    print(f"fuzz: {operations} operations, {total} requests ({by_caller})")
    assert operations > 50  # the whole API was walked, not an empty schema
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_REQUESTS


@pytest.mark.usefixtures("outside_world")
def test_no_linked_sequence_gets_a_server_error(
    client: TestClient, make_tenant_owner: Callable[[], TenantOwner]
) -> None:
    owner = make_tenant_owner()
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    schema.app = client.app
    session = in_process_session(client)
    steps: Counter[str] = Counter()

    class OwnerWalk(schema.exclude(path_regex=SESSION_ENDING).as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"session": session, "headers": owner.headers}

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, **_: object
        ) -> None:
            steps[case.operation.label] += 1
            case.validate_response(response, checks=[not_a_server_error])

    # One sequence a run: the API's answers change as it goes (that is the point), which
    # Hypothesis would report as flaky generation if it replayed one run's choices in another.
    one_sequence = settings(
        max_examples=1,
        stateful_step_count=STEPS_PER_SEQUENCE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    # A seed of its own for each sequence: under CI, Hypothesis' "ci" profile derandomizes, which
    # would otherwise replay the same sequence every time; seeded, a run is still reproducible.
    for sequence in range(SEQUENCES):
        seed(sequence)(OwnerWalk).run(settings=one_sequence)
    print(f"fuzz, linked sequences: {sum(steps.values())} requests, {len(steps)} operations")
    assert len(steps) > 20  # the links reached across the API
