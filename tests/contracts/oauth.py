"""The OAuth 2.0 authorization-code grant with PKCE as the platforms' authorization servers
implement it (RFC 6749 sections 4.1 and 6, RFC 7636 S256): the authorize redirect, the code
exchange and the refresh grant, with RFC 6749 section 5.2 error bodies. Shared by the
platform contract servers (X documents exactly this flow:
https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse


@dataclass
class Grant:
    redirect_uri: str
    challenge: str | None
    scope: str


@dataclass
class AuthorizationServer:
    client_id: str
    client_secret: str
    access_lifetime: int = 7200
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    require_pkce: bool = True

    def authorize(self, request: Request) -> RedirectResponse | JSONResponse:
        query = request.query_params
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        challenge = query.get("code_challenge")
        if self.require_pkce and (not challenge or query.get("code_challenge_method") != "S256"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE"}, 400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = Grant(query["redirect_uri"], challenge, query.get("scope", ""))
        target = f"{query['redirect_uri']}?{urlencode({'state': query['state'], 'code': code})}"
        return RedirectResponse(target, status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id == self.client_id and secret == self.client_secret
        return form.get("client_id") == self.client_id and (
            form.get("client_secret") == self.client_secret
        )

    def _issue(self, scope: str) -> JSONResponse:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return JSONResponse(
            {
                "token_type": "bearer",
                "expires_in": self.access_lifetime,
                "access_token": access,
                "scope": scope,
                "refresh_token": refresh,
            }
        )

    async def token(self, request: Request) -> JSONResponse:
        form = {key: str(value) for key, value in (await request.form()).items()}
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            if grant is None or grant.redirect_uri != form.get("redirect_uri"):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if grant.challenge is not None:
                verifier = form.get("code_verifier", "")
                digest = hashlib.sha256(verifier.encode()).digest()
                if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "code_verifier"}, 400
                    )
            return self._issue(grant.scope)
        if form.get("grant_type") == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.refresh_tokens:
                return JSONResponse(
                    {"error": "invalid_request", "error_description": "Invalid refresh token"},
                    status_code=400,
                )
            self.refresh_tokens.discard(refresh)  # rotated: a refresh token is used once
            return self._issue("")
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def revoke_all(self) -> None:
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    def bearer_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.access_tokens
