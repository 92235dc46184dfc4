"""The two AI APIs behind captions, as documented.

- OpenAI-compatible Chat Completions (OpenAI, and the same shape served by Ollama and vLLM):
  `POST /v1/chat/completions` -> `{"id", "object": "chat.completion", "choices": [{"message":
  {"role", "content"}, "finish_reason"}], "usage"}`; errors `{"error": {"message", "type",
  "param", "code"}}`, 429 `insufficient_quota` when the account has no credit:
  https://platform.openai.com/docs/api-reference/chat/create,
  https://platform.openai.com/docs/guides/error-codes
- Anthropic Messages: `POST /v1/messages` (`x-api-key`, `anthropic-version`) -> `{"type":
  "message", "content": [{"type": "text", "text"}], "stop_reason", "usage"}`; errors
  `{"type": "error", "error": {"type", "message"}}`, 529 `overloaded_error`:
  https://docs.anthropic.com/en/api/messages, https://docs.anthropic.com/en/api/errors

Test hooks: `failures` (status codes answered, in order, before normal answers) and `reply`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

OPENAI_ERRORS = {
    429: ("You exceeded your current quota.", "insufficient_quota", "insufficient_quota"),
    500: ("The server had an error while processing your request.", "server_error", None),
    503: ("The engine is currently overloaded.", "server_error", None),
    529: ("Overloaded", "server_error", None),
}
ANTHROPIC_ERRORS = {
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class AiState:
    reply: str = "Caption one\n---\nCaption two\n---\nCaption three"
    failures: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


def create_openai_app(state: AiState, api_key: str) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {api_key}":
            error = {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
            return JSONResponse({"error": error}, status_code=401)
        body = await request.json()
        state.requests.append(body)
        if state.failures:
            status = state.failures.pop(0)
            message, kind, code = OPENAI_ERRORS[status]
            error = {"message": message, "type": kind, "param": None, "code": code}
            return JSONResponse({"error": error}, status_code=status)
        return JSONResponse(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": state.reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
            }
        )

    return app


def create_anthropic_app(state: AiState, api_key: str) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        # `x-api-key` as documented; the current SDK sends the key as a Bearer token.
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization")}
        if not keys & {api_key, f"Bearer {api_key}"} or not request.headers.get(
            "anthropic-version"
        ):
            error = {"type": "authentication_error", "message": "invalid x-api-key"}
            return JSONResponse({"type": "error", "error": error}, status_code=401)
        body = await request.json()
        state.requests.append(body)
        if state.failures:
            status = state.failures.pop(0)
            error = {"type": ANTHROPIC_ERRORS[status], "message": "Overloaded"}
            return JSONResponse({"type": "error", "error": error}, status_code=status)
        return JSONResponse(
            {
                "id": f"msg_{uuid.uuid4().hex[:16]}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": state.reply}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 50, "output_tokens": 20},
            }
        )

    return app
