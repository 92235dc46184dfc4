"""AI captions, content analysis and improvement, within each platform's rules.

A credit is reserved in its own committed unit of work before a provider is called (so no
lock is held during the call) and refunded in another if the call fails. Without any provider
configured, captions come from templates built from the event and say so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import regex
from sqlalchemy.orm import Session

from visage.config import Settings
from visage.core.db import Database, utcnow
from visage.core.errors import AppError
from visage.events.models import Event, Photo
from visage.identity.models import Tenant
from visage.identity.principal import Principal
from visage.publishing import ai_providers, credits, platforms
from visage.publishing.errors import ContentInvalid
from visage.publishing.models import Platform

CAPTION_COUNT = 3
SEPARATOR = "---"
TEMPLATES = (
    "{name} at {place} on {day}: thank you all for coming!",
    "What a day! Highlights of {name}, {day}, {place}.",
    "{name} ({day}, {place}) in pictures.",
)


@dataclass(frozen=True)
class CaptionRequest:
    platform: Platform
    tone: str
    language: str
    photo_ids: list[uuid.UUID]
    event_id: uuid.UUID | None


@dataclass(frozen=True)
class Captions:
    captions: list[str]
    provider: str  # "openai", "anthropic" or "template"
    credits_remaining: int | None


@dataclass(frozen=True)
class EventFacts:
    name: str
    day: date
    place: str


def _event_facts(session: Session, principal: Principal, request: CaptionRequest) -> EventFacts:
    scope = principal.scope(session)
    event_id = request.event_id
    if event_id is None:
        if not request.photo_ids:
            raise ContentInvalid("Send photo_ids or event_id.")
        event_id = scope.get(Photo, request.photo_ids[0], what="Photo").event_id
    event = scope.get(Event, event_id, what="Event")
    tenant = session.get_one(Tenant, scope.tenant_id)
    return EventFacts(event.name, event.event_date, tenant.name)


def fit(text: str, platform: Platform) -> str:
    """`text` cut (at a word, by graphemes) to the platform's counted limit."""
    limit = platforms.RULES[platform].max_length
    if platforms.counted_length(text, platform) <= limit:
        return text
    graphemes = regex.findall(r"\X", text)
    # The longest prefix that fits with the ellipsis (counted length grows with the prefix).
    low, high = 0, len(graphemes)
    while low < high:
        middle = (low + high + 1) // 2
        if platforms.counted_length("".join(graphemes[:middle]) + "…", platform) <= limit:
            low = middle
        else:
            high = middle - 1
    cut = "".join(graphemes[:low])
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def _split(answer: str) -> list[str]:
    parts = [part.strip().strip('"') for part in answer.split(SEPARATOR)]
    return [part for part in parts if part]


def _with_credit(
    database: Database,
    principal: Principal,
    settings: Settings,
    kind: str,
    system: str,
    prompt: str,
) -> tuple[ai_providers.AiAnswer, int]:
    tenant_id = principal.tenant()
    with database.session() as session:
        generation_id = credits.reserve(session, tenant_id, principal.id, kind, settings, utcnow())
    try:
        answer = ai_providers.complete(settings, system, prompt)
    except AppError:
        with database.session() as session:
            credits.refund(session, generation_id)
        raise
    with database.session() as session:
        credits.settle(session, generation_id, answer.provider)
        remaining = credits.view(session, tenant_id, settings, utcnow()).remaining
    return answer, remaining


def generate_captions(
    database: Database, principal: Principal, settings: Settings, request: CaptionRequest
) -> Captions:
    with database.session() as session:
        facts = _event_facts(session, principal, request)
    if not ai_providers.configured(settings):
        values = {"name": facts.name, "day": facts.day.isoformat(), "place": facts.place}
        texts = [fit(template.format(**values), request.platform) for template in TEMPLATES]
        return Captions(texts, "template", None)
    rules = platforms.RULES[request.platform]
    system = (
        "You write social media captions for a club's event photos. Answer with "
        f"{CAPTION_COUNT} captions separated by a line containing only {SEPARATOR}, nothing else."
    )
    prompt = (
        f"Event: {facts.name}, on {facts.day.isoformat()}, at {facts.place}. "
        f"{len(request.photo_ids) or 'Some'} photos. Platform: {request.platform.value} "
        f"(at most {rules.max_length} characters"
        + (f", at most {rules.max_hashtags} hashtags" if rules.max_hashtags else "")
        + f"). Tone: {request.tone}. Language: {request.language}."
    )
    answer, remaining = _with_credit(database, principal, settings, "caption", system, prompt)
    texts = [fit(text, request.platform) for text in _split(answer.text)][:CAPTION_COUNT]
    return Captions(
        texts or [fit(answer.text.strip(), request.platform)], answer.provider, remaining
    )


@dataclass(frozen=True)
class Analysis:
    platform: Platform
    counted_length: int
    limit: int
    hashtags: int
    mentions: int
    issues: list[platforms.Violation]


def analyze(content: str, platform: Platform, image_count: int | None) -> Analysis:
    """The platform's rules applied to the text (no AI call, no credit)."""
    issues = platforms.violations(content, platform, image_count or 0)
    if image_count is None:
        issues = [issue for issue in issues if issue.rule != "images"]
    return Analysis(
        platform,
        platforms.counted_length(content, platform),
        platforms.RULES[platform].max_length,
        len(platforms.hashtags(content)),
        len(platforms.mentions(content)),
        issues,
    )


@dataclass(frozen=True)
class Improved:
    content: str
    provider: str  # an AI provider, or "rules" without one
    credits_remaining: int | None


def _by_rules(content: str, platform: Platform) -> str:
    text = content
    for word in platforms.BANNED_WORDS:
        text = regex.sub(regex.escape(word), "", text, flags=regex.IGNORECASE)
    cap = platforms.RULES[platform].max_hashtags
    if cap is not None:
        extra = platforms.hashtags(text)[cap:]
        for tag in extra:
            text = text.replace(tag, "", 1)
    return fit(" ".join(text.split()), platform)


def improve(
    database: Database,
    principal: Principal,
    settings: Settings,
    *,
    content: str,
    goal: str,
    platform: Platform,
) -> Improved:
    if not ai_providers.configured(settings):
        return Improved(_by_rules(content, platform), "rules", None)
    rules = platforms.RULES[platform]
    system = "You improve social media posts. Answer with the improved post only."
    prompt = (
        f"Goal: {goal}. Platform: {platform.value} (at most {rules.max_length} characters). "
        f"Keep the language of the post.\n\n{content}"
    )
    answer, remaining = _with_credit(database, principal, settings, "improve", system, prompt)
    return Improved(_by_rules(answer.text.strip(), platform), answer.provider, remaining)
