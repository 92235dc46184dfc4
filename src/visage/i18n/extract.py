"""Babel extractor for Python: gettext calls plus the API's error messages.

Error messages are written in English where they are raised (`raise NotFound("No such
member.")`, `default_message = "..."`) and translated once, by the error handler, in the
request's locale. This extractor collects them so the catalogs hold every one: the literal
first argument (or `message=`) of a raised `AppError` subclass, and each `default_message`.
An f-string becomes a pattern with numbered fields (`"No tenant with slug '{0}'."`) that
`errors.translate_error_message` matches against the message at hand.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from babel.messages.extract import extract_python

SOURCE_ROOT = Path(__file__).resolve().parents[1]
ERROR_BASE = "AppError"

Extracted = tuple[Any, ...]  # (lineno, funcname, message, comments[, context])


@lru_cache(maxsize=1)
def error_classes() -> frozenset[str]:
    """Names of every `AppError` subclass in the package (by class name, across modules)."""
    bases: dict[str, set[str]] = {}
    for path in SOURCE_ROOT.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {_name(base) for base in node.bases}
                bases.setdefault(node.name, set()).update(n for n in names if n)
    known = {ERROR_BASE}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in known and parents & known:
                known.add(name)
                grew = True
    return frozenset(known)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def message_text(node: ast.expr | None) -> str | None:
    """A literal message, or an f-string as a numbered pattern."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        field = 0
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value.replace("{", "{{").replace("}", "}}"))
            else:
                parts.append(f"{{{field}}}")
                field += 1
        return "".join(parts)
    return None


def _raised_message(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[0] if call.args else None


def _with_local_classes(tree: ast.AST, known: frozenset[str]) -> frozenset[str]:
    """`known` plus the error classes this module defines on top of them."""
    classes = set(known)
    local = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    grew = True
    while grew:
        grew = False
        for node in local:
            if node.name not in classes and {_name(base) for base in node.bases} & classes:
                classes.add(node.name)
                grew = True
    return frozenset(classes)


def error_messages(tree: ast.AST) -> Iterator[tuple[int, str]]:
    classes = _with_local_classes(tree, error_classes())
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            if _name(node.exc.func) in classes:
                text = message_text(_raised_message(node.exc))
                if text:
                    yield node.lineno, text
        elif isinstance(node, ast.ClassDef) and node.name in classes:
            for statement in node.body:
                target = (
                    statement.targets[0]
                    if isinstance(statement, ast.Assign) and len(statement.targets) == 1
                    else statement.target
                    if isinstance(statement, ast.AnnAssign)
                    else None
                )
                value = (
                    statement.value if isinstance(statement, ast.Assign | ast.AnnAssign) else None
                )
                if isinstance(target, ast.Name) and target.id == "default_message":
                    text = message_text(value)
                    if text:
                        yield statement.lineno, text


def extract_visage(
    fileobj: IO[bytes],
    keywords: Sequence[str] | dict[str, Any],
    comment_tags: Sequence[str],
    options: dict[str, Any],
) -> Iterator[Extracted]:
    """Babel extraction method `visage` (see babel.cfg)."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for lineno, text in error_messages(tree):
        yield lineno, "", text, ["API error message"]
