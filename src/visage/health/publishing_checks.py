"""AllIN's checks for publishing, in `visage doctor`: the connected social accounts whose tokens
expired or will soon (AllIN's "Token Expiration & Refresh"), and the form of the AI providers'
keys (AllIN's "OpenAI API Errors: 401 Invalid API key")."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.health.checks import CheckResult
from visage.identity.models import Tenant
from visage.publishing.models import AccountStatus, SocialAccount

# An account without a refresh token (LinkedIn's) cannot renew itself: say so a week ahead.
EXPIRY_WARNING = timedelta(days=7)
RECONNECT_FIX = "Reconnect the account under Publishing (/app/publishing) in the web app"


def _describe(slug: str, account: SocialAccount, now: datetime) -> str:
    expires = account.token_expires_at
    if account.status is AccountStatus.EXPIRED or (expires is not None and expires <= now):
        state = "expired"
    else:
        state = f"expires {expires:%Y-%m-%d %H:%M} UTC" if expires else "expiring"
    return f"{slug}: {account.platform.value} @{account.username} ({state})"


def check_social_tokens(database: Database, now: datetime | None = None) -> CheckResult:
    """Connected accounts that can no longer publish (EXPIRED, or past their token's expiry), or
    soon will and cannot refresh by themselves. Those with a refresh token are renewed by the
    periodic refresh ahead of expiry."""
    now = now or utcnow()
    horizon = now + EXPIRY_WARNING
    with database.session() as session:
        rows = session.execute(
            select(Tenant.slug, SocialAccount)
            .join(Tenant, Tenant.id == SocialAccount.tenant_id)
            .where(
                or_(
                    SocialAccount.status == AccountStatus.EXPIRED,
                    SocialAccount.token_expires_at <= now,
                    (SocialAccount.token_expires_at <= horizon)
                    & SocialAccount.refresh_token.is_(None),
                )
            )
            .order_by(Tenant.slug, SocialAccount.platform, SocialAccount.username)
        ).all()
        total = session.scalar(select(SocialAccount.id).limit(1))
        problems = [_describe(slug, account, now) for slug, account in rows]
    if total is None:
        return CheckResult("social_tokens", True, "No social account is connected")
    if not problems:
        return CheckResult("social_tokens", True, "Every connected social account's token is valid")
    return CheckResult(
        "social_tokens",
        False,
        f"Token expired or expiring soon: {'; '.join(problems)}",
        RECONNECT_FIX,
        {"accounts": problems},
    )


# The keys the providers hand out start so (a key pasted into another variable is a classic).
_KEY_PREFIXES = {"OPENAI_API_KEY": "sk-", "ANTHROPIC_API_KEY": "sk-ant-"}
_PLACEHOLDER_WORDS = ("here", "your", "xxx", "changeme", "...")
_WHERE = {
    "OPENAI_API_KEY": "https://platform.openai.com/api-keys",
    "ANTHROPIC_API_KEY": "https://console.anthropic.com/settings/keys",
}


def _key_problem(variable: str, key: str, *, own_endpoint: bool) -> str | None:
    if key != key.strip() or any(quote in key for quote in "\"'"):
        return f"{variable} has quotes or spaces around the key"
    if any(word in key.lower() for word in _PLACEHOLDER_WORDS):
        return f"{variable} is still a placeholder ({key[:12]}...)"
    if not own_endpoint and not key.startswith(_KEY_PREFIXES[variable]):
        return f"{variable} does not look like a key of that provider (starts with {key[:4]!r})"
    return None


def check_ai_keys(settings: Settings) -> CheckResult:
    """Each configured AI provider has a key of the right form. A self-hosted OpenAI-compatible
    server (OPENAI_BASE_URL: Ollama, vLLM) takes any key, or none."""
    providers = {
        "OPENAI_API_KEY": (settings.openai_api_key, settings.openai_base_url),
        "ANTHROPIC_API_KEY": (settings.anthropic_api_key, settings.anthropic_base_url),
    }
    configured = {name: pair for name, pair in providers.items() if any(pair)}
    if not configured:
        return CheckResult(
            "ai_keys", True, "No AI provider configured: captions come from templates"
        )
    problems: list[tuple[str, str]] = []
    for variable, (key, base_url) in configured.items():
        if not key:
            if not base_url or variable == "ANTHROPIC_API_KEY":
                problems.append((variable, f"{variable} is not set"))
            continue
        problem = _key_problem(variable, key, own_endpoint=bool(base_url))
        if problem:
            problems.append((variable, problem))
    names = ", ".join(name.removesuffix("_API_KEY").lower() for name in configured)
    if not problems:
        return CheckResult("ai_keys", True, f"AI provider keys set ({names})")
    variable = problems[0][0]
    return CheckResult(
        "ai_keys",
        False,
        "; ".join(problem for _, problem in problems),
        f"Set {variable} to the key from {_WHERE[variable]} (no quotes), "
        f"or unset it to go without that provider",
        {"variables": [name for name, _ in problems]},
    )
