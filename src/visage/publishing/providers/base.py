"""What every platform gateway offers the domain, and the HTTP plumbing they share.

A gateway is the only code that knows a platform's URLs, payloads and error shapes; the
domain sees `Published`, `RateLimitedByPlatform`, `OutcomeUnknown`, `TokenRejected` and
`PlatformRejected`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from visage.config import Settings
from visage.publishing.models import Platform

# Without a reset time from the platform a rate-limited post waits this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)
# "Publish now" asks first whether the platform answers at all, this quickly.
REACHABILITY_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: str = ""

    @classmethod
    def from_oauth(cls, token: dict[str, Any], *, previous_refresh: str | None = None) -> TokenSet:
        expires_in = token.get("expires_in")
        expires_at = datetime.now(UTC) + timedelta(seconds=int(expires_in)) if expires_in else None
        return cls(
            access_token=str(token["access_token"]),
            refresh_token=token.get("refresh_token") or previous_refresh,
            expires_at=expires_at,
            scope=str(token.get("scope", "")),
        )


@dataclass(frozen=True)
class ConnectedIdentity:
    """An account a token gives access to (a Facebook user token gives one per Page)."""

    external_id: str
    username: str
    tokens: TokenSet


@dataclass(frozen=True)
class Credentials:
    access_token: str
    external_id: str
    username: str


@dataclass(frozen=True)
class Outgoing:
    text: str
    images: list[bytes]  # JPEG, already consent-safe and cropped for the platform
    image_urls: list[str]  # the same copies at public URLs (platforms that fetch them)
    idempotency_key: str
    since: datetime  # when the first attempt started: a check looks for posts after it


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str


class GatewayError(Exception):
    pass


class RateLimitedByPlatform(GatewayError):
    def __init__(self, reset_at: datetime, detail: str) -> None:
        super().__init__(detail)
        self.reset_at = reset_at


class OutcomeUnknown(GatewayError):
    """The request may have been applied (timeout, 502-504): check before any retry."""


class TokenRejected(GatewayError):
    pass


class PlatformRejected(GatewayError):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientFailure(GatewayError):
    """Nothing reached the platform (connection refused or timed out): safe to retry."""


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool
    token_auth: Literal["client_secret_basic", "client_secret_post"]

    def client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=" ".join(self.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256" if self.pkce else None,
            token_endpoint_auth_method=self.token_auth,
            timeout=20,
        )


class Gateway(abc.ABC):
    platform: ClassVar[Platform]
    scopes: ClassVar[tuple[str, ...]]
    pkce: ClassVar[bool] = False
    token_auth: ClassVar[Literal["client_secret_basic", "client_secret_post"]] = (
        "client_secret_post"
    )
    uses_oauth: ClassVar[bool] = True  # False: signs in otherwise (Bluesky app passwords)

    def __init__(self, settings: Settings) -> None:
        prefix = self.platform.value
        self.settings = settings
        self.base_url: str = getattr(settings, f"{prefix}_api_base_url").rstrip("/")
        self.oauth = OAuthApp(
            client_id=getattr(settings, f"{prefix}_client_id", ""),
            client_secret=getattr(settings, f"{prefix}_client_secret", ""),
            authorize_url=getattr(settings, f"{prefix}_authorize_url", ""),
            token_url=getattr(settings, f"{prefix}_token_url", ""),
            scopes=self.scopes,
            pkce=self.pkce,
            token_auth=self.token_auth,
        )
        self.timeout = settings.social_http_timeout_seconds

    # ---------------------------------------------------------------- what each platform says

    @abc.abstractmethod
    def identities(self, tokens: TokenSet) -> list[ConnectedIdentity]:
        """The accounts the freshly issued tokens may publish as."""

    @abc.abstractmethod
    def publish(self, account: Credentials, post: Outgoing) -> Published:
        """Send the post once. Raises the GatewayError subclasses above."""

    @abc.abstractmethod
    def find_published(self, account: Credentials, post: Outgoing) -> Published | None:
        """The post if an earlier, unanswered attempt did publish it."""

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """New tokens before expiry: the OAuth refresh grant by default."""
        if not tokens.refresh_token:
            raise TokenRejected("No refresh token: the platform requires a new authorization.")
        client = self.oauth.client(redirect_uri="")
        try:
            fresh = client.refresh_token(self.oauth.token_url, refresh_token=tokens.refresh_token)
        except Exception as error:  # Authlib raises OAuthError or httpx errors
            raise TokenRejected(f"Refresh refused: {error}") from error
        finally:
            client.close()
        return TokenSet.from_oauth(dict(fresh), previous_refresh=tokens.refresh_token)

    def rate_limit_reset(self, response: httpx.Response) -> datetime:
        """When a 429 may be retried: `Retry-After` unless the platform says better."""
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.isdigit():
            return datetime.now(UTC) + timedelta(seconds=int(retry_after))
        return datetime.now(UTC) + DEFAULT_RATE_LIMIT_WAIT

    def error_of(self, response: httpx.Response) -> GatewayError | None:
        """A platform-specific reading of an error body (Graph API codes); None: the default."""
        del response
        return None

    # ---------------------------------------------------------------- shared HTTP

    def unreachable_reason(self) -> str | None:
        """Why the platform's API cannot be reached, or None when it answers at all (any
        status: no credentials are tried, nothing is sent)."""
        try:
            httpx.get(self.base_url, timeout=REACHABILITY_TIMEOUT_SECONDS)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            return type(error).__name__
        except httpx.HTTPError:
            return None  # it answered, slowly or oddly: the delivery deals with that
        return None

    def http(self, access_token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=headers)

    def call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, its failures mapped onto the domain's terms."""
        try:
            response = client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise TransientFailure(f"{self.platform.value} unreachable: {error}") from error
        except httpx.TimeoutException as error:
            raise OutcomeUnknown(
                f"{self.platform.value} did not answer within {self.timeout:g} s"
            ) from error
        if response.is_success:
            return response
        specific = self.error_of(response)
        if specific is not None:
            raise specific
        if response.status_code == 429:
            raise RateLimitedByPlatform(
                self.rate_limit_reset(response), f"{self.platform.value}: rate limit exceeded"
            )
        if response.status_code == 401:
            raise TokenRejected(f"{self.platform.value} refused the token")
        if response.status_code in (502, 503, 504):
            raise OutcomeUnknown(f"{self.platform.value} answered {response.status_code}")
        raise PlatformRejected(
            f"{self.platform.value} answered {response.status_code}: {response.text[:300]}",
            status=response.status_code,
        )
