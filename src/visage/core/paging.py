"""Paginated lists: `?page=&page_size=` in, `{items, total, page, page_size}` out.

No `from __future__ import annotations` here: the query bounds of `page_request` are closure
values that FastAPI must see evaluated.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 100
# Far beyond any real list, and keeps OFFSET inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 20


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    page: int
    page_size: int


def page_request(
    *, default_size: int = 20, max_size: int = MAX_PAGE_SIZE
) -> Callable[[int, int], PageRequest]:
    """The dependency reading `?page=&page_size=` (1..max_size rows, default_size if unset)."""

    def dependency(
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
        page_size: Annotated[int, Query(ge=1, le=max_size)] = default_size,
    ) -> PageRequest:
        return PageRequest(page=page, page_size=page_size)

    return dependency


Paging = Annotated[PageRequest, Depends(page_request())]


def page_of(items: list[ItemT], total: int, request: PageRequest) -> Page[ItemT]:
    """The response for the requested page of a list of `total` rows."""
    return Page(items=items, total=total, page=request.page, page_size=request.page_size)
