"""Every request the five troubleshooting guides tell their readers to send, read from the
guides' own text (copied verbatim into tests/guides/seeds/): each `curl` command (its `\\`
continuation lines joined) and each raw HTTP request (`POST /api/auth/refresh` followed by its
headers and JSON body, in a code block or inline in backquotes), turned into the curl a reader
would type. A request added to a guide shows up here by itself."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"
GUIDES = {
    "powergym.md": "PowerGym",
    "wiwebb.md": "WiWebb",
    "messaging_api.md": "Messaging API",
    "allin.md": "AllIN",
    "findme.md": "FindMe",
}
# Where a raw HTTP request is sent: the guide's own server (mapped to the test server later).
GUIDE_ORIGINS = {
    "PowerGym": "http://localhost:8000",
    "WiWebb": "http://localhost:8000",
    "Messaging API": "http://localhost:3000",
    "AllIN": "http://localhost:5000",
    "FindMe": "https://g62bncafk2.eu-west-3.awsapprunner.com",
}

FENCE = re.compile(r"^\s*```[^\n]*\n(.*?)^\s*```", re.MULTILINE | re.DOTALL)
METHODS = "GET|POST|PUT|PATCH|DELETE"
REQUEST_LINE = re.compile(rf"^({METHODS}) (/\S*)$")
INLINE_REQUEST = re.compile(rf"`({METHODS}) (/[^`\s]*)`")
HEADER = re.compile(r"^([A-Za-z-]+): (.+)$")


@dataclass(frozen=True)
class SeedRequest:
    guide: str
    text: str  # as the guide writes it, on one line (whitespace runs collapsed)
    curl: str  # the command a reader runs: the curl itself, or one built from an HTTP request


def _one_line(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def _curls(guide: str, text: str) -> list[SeedRequest]:
    found = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.strip().startswith("curl "):
            continue
        command = [line]
        while command[-1].rstrip().endswith("\\") and index + len(command) < len(lines):
            command.append(lines[index + len(command)])
        joined = _one_line("\n".join(command))
        found.append(SeedRequest(guide, joined, joined))
    return found


def _as_curl(guide: str, method: str, path: str, headers: list[str], body: str) -> str:
    parts = ["curl", "-X", method, f"{GUIDE_ORIGINS[guide]}{path}"]
    for header in headers:
        parts += ["-H", header]
    if body and not any(header.lower().startswith("content-type:") for header in headers):
        parts += ["-H", "Content-Type: application/json"]  # the body the guide shows is JSON
    if body:
        parts += ["-d", json.dumps(json.loads(body))]
    return " ".join(shlex.quote(part) for part in parts)


def _http_requests(guide: str, text: str) -> list[SeedRequest]:
    found = []
    for block in FENCE.findall(text):
        lines = [line.strip() for line in block.splitlines()]
        for index, line in enumerate(lines):
            request = REQUEST_LINE.match(line)
            if not request:
                continue
            rest = lines[index + 1 :]
            headers = []
            while rest and HEADER.match(rest[0]) and not rest[0].startswith("{"):
                headers.append(rest.pop(0))
            body = "\n".join(rest).strip() if rest and rest[0].startswith("{") else ""
            written = _one_line("\n".join([line, *headers, body]))
            found.append(
                SeedRequest(guide, written, _as_curl(guide, *request.groups(), headers, body))
            )
    outside = FENCE.sub("", text)
    for method, path in INLINE_REQUEST.findall(outside):
        found.append(SeedRequest(guide, f"{method} {path}", _as_curl(guide, method, path, [], "")))
    return found


def seed_requests(seeds: Path = SEEDS) -> list[SeedRequest]:
    """Every request of every guide, in the guides' order, each written-out request once."""
    requests: dict[tuple[str, str], SeedRequest] = {}
    for file_name, guide in GUIDES.items():
        text = (seeds / file_name).read_text(encoding="utf-8")
        for request in [*_curls(guide, text), *_http_requests(guide, text)]:
            requests.setdefault((request.guide, request.text), request)
    return list(requests.values())


GUIDE_URL = re.compile(
    r"https?://(?:localhost:(?:8000|3000|5000)|yourdomain\.com|your-domain\.com"
    r"|g62bncafk2\.eu-west-3\.awsapprunner\.com)(/[^\s\"'`),]*)"
)


def guide_paths(seeds: Path = SEEDS) -> list[str]:
    """Every path on the guides' own servers the guides name, in a request or in prose (the
    Swagger page, the URL in a CORS error)."""
    paths: dict[str, None] = {}
    for file_name in GUIDES:
        for path in GUIDE_URL.findall((seeds / file_name).read_text(encoding="utf-8")):
            paths.setdefault(path)
    return list(paths)
