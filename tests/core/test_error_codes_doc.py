"""docs/errors.md lists every stable error code the service can answer with."""

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import visage
from visage.core.errors import AppError

ERRORS_DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"


def _subclasses(cls: type[AppError]) -> Iterator[type[AppError]]:
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def test_every_error_code_is_documented() -> None:
    for module in pkgutil.walk_packages(visage.__path__, "visage."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)  # errors are declared across the domains
    codes = {error.code for error in _subclasses(AppError)}
    documented = ERRORS_DOC.read_text()
    assert len(codes) > 20
    assert sorted(code for code in codes if f"`{code}`" not in documented) == []
