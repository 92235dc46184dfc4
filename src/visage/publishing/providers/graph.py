"""What the Facebook and Instagram gateways share: the Graph API's error body.

`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`; codes 4, 17, 32 and
613 are rate limits and 368 a temporary block
(https://developers.facebook.com/docs/graph-api/overview/rate-limiting,
https://developers.facebook.com/docs/graph-api/guides/error-handling). The wait comes from
`X-Business-Use-Case-Usage` (`estimated_time_to_regain_access`, minutes) when it is sent;
`X-App-Usage` only gives percentages, so the default wait applies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from visage.publishing.providers.base import (
    DEFAULT_RATE_LIMIT_WAIT,
    GatewayError,
    PlatformRejected,
    RateLimitedByPlatform,
    TokenRejected,
)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 368, 613})
TOKEN_CODES = frozenset({190, 102})


def _regain_minutes(response: httpx.Response) -> int | None:
    header = response.headers.get("x-business-use-case-usage")
    if not header:
        return None
    try:
        usage = json.loads(header)
    except ValueError:
        return None
    minutes = [
        int(entry.get("estimated_time_to_regain_access", 0))
        for entries in usage.values()
        for entry in entries
    ]
    return max(minutes, default=0) or None


def graph_error(platform: str, response: httpx.Response) -> GatewayError | None:
    try:
        error = response.json().get("error")
    except ValueError:
        return None
    if not isinstance(error, dict):
        return None
    code = int(error.get("code", 0))
    message = f"{platform}: {error.get('message', 'error')} (code {code})"
    if code in RATE_LIMIT_CODES:
        minutes = _regain_minutes(response)
        wait = timedelta(minutes=minutes) if minutes else DEFAULT_RATE_LIMIT_WAIT
        return RateLimitedByPlatform(datetime.now(UTC) + wait, message)
    if code in TOKEN_CODES:
        return TokenRejected(message)
    if response.status_code >= 500:
        return None  # the generic reading: 502-504 are unknown outcomes
    return PlatformRejected(message, status=response.status_code)
