"""Finds user-visible text that is not marked for translation, in templates and scripts.

Templates: text between tags, the visible attributes (alt, title, placeholder, aria-label,
data-success-message, data-confirm, ...) and string constants that look like words, outside
`{% trans %}` and `_()`. Scripts: string and template literals that look like words and are
not the first argument of `_()` or `ngettext()`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages import jslexer
from jinja2 import Environment, nodes

# Names, not words: the same in every language.
PROPER_NOUNS = {
    "Visage",
    "WhatsApp",
    "X",
    "Facebook",
    "Facebook Page",
    "Instagram",
    "LinkedIn",
    "Mastodon",
    "Bluesky",
    "Stripe",
    "English",
    "Français",
    "OK",
    "PIN",
    "QR",
    "API",
    "CSV",
    "WAHA",
    "—",
    "·",
}
VISIBLE_ATTRIBUTES = (
    "alt",
    "title",
    "placeholder",
    "aria-label",
    "aria-description",
    "data-success-message",
    "data-confirm",
    "data-busy-message",
    "label",
)
WORDS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
SENTENCE = re.compile(r"[A-Za-zÀ-ÿ]+[,.:;!?…]?\s+[A-Za-zÀ-ÿ(]|^[A-Z][a-zà-ÿ]+[.!?…:]*$|[.!?…]$")
TAG = re.compile(r"<[^>]*>", re.DOTALL)
ATTRIBUTE = re.compile(r"""\s([\w:-]+)\s*=\s*("[^"]*"|'[^']*')""")
ENTITY = re.compile(r"&[#\w]+;")
# Script strings that look like words but are protocol: header names, event names, ...
SCRIPT_TECHNICAL = {
    "Accept",
    "Authorization",
    "Accept-Language",
    "Content-Type",
    "Retry-After",
    "X-API-Key",
    "Bearer",
    "Token",
    "Escape",
    "Enter",
    "Backspace",
    "use strict",
    "DOMContentLoaded",
    "danger small",
    "UTC",
}
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")  # HTTP methods, API codes and statuses


@dataclass(frozen=True)
class Unmarked:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.text!r}"


def _looks_like_words(text: str) -> bool:
    text = ENTITY.sub(" ", text).strip()
    if not text or text in PROPER_NOUNS or not WORDS.search(text):
        return False
    return bool(SENTENCE.search(text)) or text[:1].isupper()


def _flattened(environment: Environment, source: str) -> list[tuple[int, str]]:
    """The template's HTML outside `{% trans %}` blocks, each `{{ }}` / `{% %}` replaced by a
    NUL, with the line each piece starts on."""
    pieces: list[tuple[int, str]] = []
    in_trans = False
    expecting_name = False
    for lineno, kind, value in environment.lex(source):
        if kind == "whitespace":
            continue
        if kind == "block_begin":
            expecting_name = True
            continue
        if expecting_name and kind == "name":
            expecting_name = False
            if value == "trans":
                in_trans = True
            elif value == "endtrans":
                in_trans = False
            continue
        expecting_name = False
        if kind == "data" and not in_trans:
            pieces.append((lineno, value))
        elif kind in {"variable_begin", "block_begin"}:
            pieces.append((lineno, "\0"))
    return pieces


def _template_html(path: Path, pieces: list[tuple[int, str]]) -> Iterator[Unmarked]:
    html = "".join(text for _, text in pieces)
    starts: list[tuple[int, int]] = []  # (offset, line)
    offset = 0
    for lineno, text in pieces:
        starts.append((offset, lineno))
        offset += len(text)

    def line_of(position: int) -> int:
        line = 1
        for start, lineno in starts:
            if start > position:
                break
            line = lineno + html.count("\n", start, position)
        return line

    for tag in TAG.finditer(html):
        for attribute in ATTRIBUTE.finditer(tag.group(0)):
            name, value = attribute.group(1), attribute.group(2)[1:-1]
            for part in value.split("\0"):
                if name.lower() in VISIBLE_ATTRIBUTES and _looks_like_words(part):
                    yield Unmarked(path, line_of(tag.start()), part.strip())
    position = 0
    for match in re.finditer(
        r"[^<>]+(?=<|$)", TAG.sub(lambda m: "<" + " " * (len(m.group(0)) - 2) + ">", html)
    ):
        for part in re.split(r"\0|\n", match.group(0)):
            if _looks_like_words(part):
                yield Unmarked(path, line_of(match.start()), part.strip())
        position = match.end()
    del position


GETTEXT_NAMES = {"_", "gettext", "ngettext", "pgettext"}
# Arguments that are values, not text (macro parameters of _forms.html).
TECHNICAL_KEYWORDS = {"type", "autocomplete", "attrs", "name", "id", "value", "inputmode"}


def _template_constants(path: Path, tree: nodes.Template) -> Iterator[Unmarked]:
    translated: set[int] = set()
    technical: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_NAMES:
            translated.update(id(arg) for arg in call.args)
        for keyword in call.kwargs:
            if keyword.key in TECHNICAL_KEYWORDS:
                technical.add(id(keyword.value))
        if call.args and isinstance(call.node, nodes.Name):
            technical.add(id(call.args[0]))  # a macro's first argument names the field
    for compare in tree.find_all(nodes.Compare):
        technical.update(id(node) for node in compare.find_all(nodes.Const))
    for test in tree.find_all(nodes.Test):
        technical.update(id(node) for node in test.find_all(nodes.Const))
    for getitem in tree.find_all(nodes.Getitem):
        technical.add(id(getitem.arg))
    for const in tree.find_all(nodes.Const):
        if id(const) in translated or id(const) in technical or not isinstance(const.value, str):
            continue
        if _looks_like_words(const.value) and not const.value.endswith(".html"):
            yield Unmarked(path, const.lineno, const.value)


def unmarked_in_template(environment: Environment, path: Path) -> list[Unmarked]:
    source = path.read_text(encoding="utf-8")
    found = list(_template_html(path, _flattened(environment, source)))
    found.extend(_template_constants(path, environment.parse(source, name=path.name)))
    return found


def _script_literal(token: jslexer.Token) -> str | None:
    if token.type == "string":
        try:
            return jslexer.unquote_string(token.value)
        except ValueError:
            return token.value[1:-1]
    if token.type == "template_string":
        return _without_substitutions(token.value[1:-1])
    return None


def _without_substitutions(template: str) -> str:
    """A template literal's text with each `${...}` (nested braces too) replaced by a space."""
    text: list[str] = []
    depth = 0
    index = 0
    while index < len(template):
        if depth == 0 and template.startswith("${", index):
            depth, index = 1, index + 2
            text.append(" ")
            continue
        char = template[index]
        if depth:
            depth += {"{": 1, "}": -1}.get(char, 0)
        else:
            text.append(char)
        index += 1
    return "".join(text)


# Babel does not look inside template literals: a _() there never reaches the catalogs.
HIDDEN_CALL = re.compile(r"\$\{[^`]*\b(?:_|ngettext)\(")


def unmarked_in_script(path: Path) -> list[Unmarked]:
    tokens = [
        token
        for token in jslexer.tokenize(path.read_text(encoding="utf-8"), jsx=False)
        if token.type not in {"linecomment", "multilinecomment"}
    ]
    found: list[Unmarked] = []
    for index, token in enumerate(tokens):
        text = _script_literal(token)
        if text is None:
            continue
        if token.type == "template_string" and HIDDEN_CALL.search(token.value):
            found.append(
                Unmarked(path, token.lineno, f"translated inside a template literal: {token.value}")
            )
            continue
        before = tokens[index - 2 : index]
        called = (
            len(before) == 2 and before[1].value == "(" and before[0].value in {"_", "ngettext"}
        )
        second_plural = (
            index >= 4
            and tokens[index - 1].value == ","
            and any(t.value == "ngettext" for t in tokens[index - 4 : index - 2])
        )
        technical = text.strip() in SCRIPT_TECHNICAL or CONSTANT.match(text.strip())
        if called or second_plural or technical or text.startswith("visage."):
            continue
        # Selectors, URLs, attribute and event names have no spaces and start lower-case.
        if _looks_like_words(text) and not text.startswith(("/", "[", ".", "#", "#{")):
            found.append(Unmarked(path, token.lineno, text))
    return found
