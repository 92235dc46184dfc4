"""/health's view of the outside services a feature needs (WAHA, the AI providers, each
configured social platform): one that cannot be reached degrades the service, it does not
make it unhealthy. The component is named, as a warning, with what waits for it; the part of
the service that does not need it keeps answering.

The probes run side by side, each bounded by its own timeout, so /health answers within
about the slowest one (3 s) even when every outside service is down.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from visage.config import Settings
from visage.health.checks import (
    PROBE_TIMEOUT_SECONDS,
    CheckResult,
    check_waha,
    probe_api,
    social_platforms_configured,
)
from visage.publishing.ai_providers import ai_endpoints

WAITS = {
    "waha": "WhatsApp messages stay queued and go out when it is back; new sessions are refused",
    "ai": "captions come from templates only if no provider answers; AI requests get 503 AI_001",
    "social": "posts wait and are published once when it is back; publish now gets 503 SOCIAL_006",
}


def degraded(result: CheckResult, part: str, waits: str) -> CheckResult:
    if result.ok:
        return result
    return CheckResult(
        result.name,
        True,
        f"DEGRADED: {result.detail}; {waits}",
        result.fix,
        {**result.data, "degraded": True, "part": part},
    )


def _ai(settings: Settings) -> CheckResult:
    probes = [probe_api(name, url) for name, url in ai_endpoints(settings)]
    reachable = [probe.name for probe in probes if probe.ok]
    detail = "; ".join(probe.detail for probe in probes)
    data = {"providers": {probe.name: probe.ok for probe in probes}}
    if reachable:
        return CheckResult("ai", True, detail, "", data)
    return CheckResult("ai", False, f"No AI provider reachable: {detail}", probes[0].fix, data)


def check_outside_services(settings: Settings) -> list[CheckResult]:
    """WAHA (when set), the AI providers (when any is) and each configured platform."""
    probes: list[tuple[str, Callable[[], CheckResult]]] = []
    if settings.waha_base_url:
        probes.append(("waha", partial(check_waha, settings, timeout=PROBE_TIMEOUT_SECONDS)))
    if ai_endpoints(settings):
        probes.append(("ai", partial(_ai, settings)))
    for platform, url in social_platforms_configured(settings):
        probes.append(("social", partial(probe_api, platform, url)))
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="health-probe") as pool:
        futures = [(part, pool.submit(probe)) for part, probe in probes]
        return [degraded(future.result(), part, WAITS[part]) for part, future in futures]
