"""The AI providers behind captions: an OpenAI-compatible Chat Completions endpoint first
(OpenAI, Ollama, vLLM: OPENAI_BASE_URL), Anthropic Messages as the fallback when the first
answers 5xx/529, times out or cannot be reached. 429 `insufficient_quota` is a billing state,
not a hiccup: it is not retried. SDK retries are off: the fallback is the retry.

Docs: https://platform.openai.com/docs/api-reference/chat/create,
https://platform.openai.com/docs/guides/error-codes, https://docs.anthropic.com/en/api/messages,
https://docs.anthropic.com/en/api/errors (529 overloaded_error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anthropic
import openai

from visage.config import Settings
from visage.publishing.errors import AiQuotaExhausted, AiUnavailable

logger = logging.getLogger(__name__)

MAX_TOKENS = 800


@dataclass(frozen=True)
class AiAnswer:
    text: str
    provider: str  # "openai" (any OpenAI-compatible server) or "anthropic"


class FallBack(Exception):
    """The provider is down for now: the next one is asked."""


def ai_endpoints(settings: Settings) -> list[tuple[str, str]]:
    """The configured providers, in the order they are asked, with their base URLs."""
    endpoints = []
    if settings.openai_base_url or settings.openai_api_key:
        endpoints.append(("openai", settings.openai_base_url or "https://api.openai.com/v1"))
    if settings.anthropic_base_url or settings.anthropic_api_key:
        endpoints.append(("anthropic", settings.anthropic_base_url or "https://api.anthropic.com"))
    return endpoints


def configured(settings: Settings) -> list[str]:
    return [name for name, _ in ai_endpoints(settings)]


def _openai(settings: Settings, system: str, prompt: str) -> str:
    client = openai.OpenAI(
        base_url=settings.openai_base_url or None,
        api_key=settings.openai_api_key or "unused",  # Ollama and vLLM take any key
        timeout=settings.ai_timeout_seconds,
        max_retries=0,
    )
    try:
        completion = client.chat.completions.create(
            model=settings.openai_model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            max_tokens=MAX_TOKENS,
        )
    except (openai.APITimeoutError, openai.APIConnectionError) as error:
        raise FallBack(f"openai: {type(error).__name__}") from error
    except openai.RateLimitError as error:
        if getattr(error, "code", None) == "insufficient_quota":
            raise AiQuotaExhausted(
                "openai: insufficient_quota (check the provider's billing)",
                details={"provider": "openai"},
            ) from error
        raise FallBack("openai: 429 rate limited") from error
    except openai.APIStatusError as error:
        if error.status_code >= 500:
            raise FallBack(f"openai: {error.status_code}") from error
        raise AiUnavailable(
            f"openai answered {error.status_code}: {error.message}",
            details={"provider": "openai"},
        ) from error
    finally:
        client.close()
    return completion.choices[0].message.content or ""


def _anthropic(settings: Settings, system: str, prompt: str) -> str:
    client = anthropic.Anthropic(
        base_url=settings.anthropic_base_url or None,
        api_key=settings.anthropic_api_key or "unused",
        timeout=settings.ai_timeout_seconds,
        max_retries=0,
    )
    try:
        message = client.messages.create(
            model=settings.anthropic_model,
            max_tokens=MAX_TOKENS,
            system=system,
            messages=[{"role": "user", "content": prompt}],
        )
    except (anthropic.APITimeoutError, anthropic.APIConnectionError) as error:
        raise FallBack(f"anthropic: {type(error).__name__}") from error
    except anthropic.APIStatusError as error:
        if error.status_code >= 500 or error.status_code == 429:  # 529: overloaded
            raise FallBack(f"anthropic: {error.status_code}") from error
        raise AiUnavailable(
            f"anthropic answered {error.status_code}: {error.message}",
            details={"provider": "anthropic"},
        ) from error
    finally:
        client.close()
    return "".join(block.text for block in message.content if block.type == "text")


_CALLS = {"openai": _openai, "anthropic": _anthropic}


def complete(settings: Settings, system: str, prompt: str) -> AiAnswer:
    """The first configured provider's answer, falling back down the list."""
    failures = []
    for name in configured(settings):
        try:
            return AiAnswer(_CALLS[name](settings, system, prompt), name)
        except FallBack as reason:
            logger.warning("[AI] %s unavailable, falling back: %s", name, reason)
            failures.append(str(reason))
    raise AiUnavailable(
        "AI service temporarily unavailable: " + "; ".join(failures),
        details={"component": "ai", "providers": failures},
    )
