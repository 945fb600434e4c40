"""The one paginator of the RSMQ admin pages: offset/limit pages over a listing whose
library call returns a page of items plus the total (``engine.Page``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.core.paginator import Paginator
from django.http import HttpRequest

from ..conf import rsmq_settings
from ..engine import Page
from ..engine.protocol import PEEK_MAX

__all__ = ["PAGE_VAR", "SEARCH_VAR", "Pager", "paginate"]

T = TypeVar("T")
PAGE_VAR = "p"
SEARCH_VAR = "q"


@dataclass
class Pager(Generic[T]):
    items: list[T]
    total: int
    number: int
    per_page: int
    search: str = ""
    page_range: list[int | str] = field(default_factory=list)

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def multi_page(self) -> bool:
        return self.num_pages > 1

    def query(self, number: int | str) -> str:
        """The query string of page ``number`` (keeps the search)."""
        parts = [f"{PAGE_VAR}={number}"]
        if self.search:
            from urllib.parse import quote

            parts.append(f"{SEARCH_VAR}={quote(self.search)}")
        return "?" + "&".join(parts)

    @property
    def links(self) -> list[dict[str, Any]]:
        return [
            {"number": n, "current": n == self.number, "query": self.query(n)}
            if isinstance(n, int)
            else {"ellipsis": True}
            for n in self.page_range
        ]


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get(PAGE_VAR, "1")))
    except ValueError:
        return 1


def paginate(request: HttpRequest, fetch: Callable[[int, int, str], Page[T]]) -> Pager[T]:
    """Call ``fetch(offset, limit, search)`` for the requested page (``?p=``, ``?q=``)
    and wrap the result. A page past the end shows the last page."""
    per_page = max(1, min(PEEK_MAX, int(rsmq_settings().admin.page_size)))
    search = request.GET.get(SEARCH_VAR, "").strip()
    number = _page_number(request)
    page = fetch((number - 1) * per_page, per_page, search)
    last = max(1, -(-page.total // per_page))
    if number > last:
        number = last
        page = fetch((number - 1) * per_page, per_page, search)
    elided = Paginator(range(page.total), per_page).get_elided_page_range(number)
    return Pager(
        items=list(page.items),
        total=page.total,
        number=number,
        per_page=per_page,
        search=search,
        page_range=[n if isinstance(n, int) else "…" for n in elided],
    )
