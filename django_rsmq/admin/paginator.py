"""The one paginator of the RSMQ admin pages: offset/limit pages over a listing whose
library call returns a page of items plus the total (``engine.Page``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest

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
    #: other query parameters the page links keep (a listing's filters)
    keep: dict[str, str] = field(default_factory=dict)

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
        params = {PAGE_VAR: str(number)}
        if self.search:
            params[SEARCH_VAR] = self.search
        params.update((k, v) for k, v in self.keep.items() if v and k not in params)
        return "?" + urlencode(params)

    @property
    def links(self) -> list[dict[str, Any]]:
        return [
            {"number": n, "current": n == self.number, "query": self.query(n)}
            if isinstance(n, int)
            else {"ellipsis": True}
            for n in self.page_range
        ]


#: no listing holds more items than this (offsets are exact integers in Lua below 2^53)
MAX_ITEMS = 2**53 // 10


def _page_number(request: HttpRequest, per_page: int) -> int:
    """``?p=`` as a page number: absent is 1; not a positive integer, or so large that
    its offset could not be a real one, is a 404."""
    raw = request.GET.get(PAGE_VAR, "1").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 17:
        raise Http404(f"Invalid page {raw[:40]!r}")
    number = int(raw)
    if number < 1 or (number - 1) * per_page >= MAX_ITEMS:
        raise Http404(f"Invalid page {number}")
    return number


def paginate(
    request: HttpRequest,
    fetch: Callable[[int, int, str], Page[T]],
    *,
    keep: dict[str, str] | None = None,
) -> Pager[T]:
    """Call ``fetch(offset, limit, search)`` for the requested page (``?p=``, ``?q=``)
    and wrap the result. A page number that is not a positive integer, or past the last
    page (page 1 of an empty listing exists), is a 404, like Django's own paginator.
    ``keep``: filter parameters the page links carry along."""
    per_page = max(1, min(PEEK_MAX, int(rsmq_settings().admin.page_size)))
    search = request.GET.get(SEARCH_VAR, "").strip()
    number = _page_number(request, per_page)
    page = fetch((number - 1) * per_page, per_page, search)
    last = max(1, -(-page.total // per_page))
    if number > last:
        raise Http404(f"Invalid page {number}: there are {last}")
    elided = Paginator(range(page.total), per_page).get_elided_page_range(number)
    return Pager(
        items=list(page.items),
        total=page.total,
        number=number,
        per_page=per_page,
        search=search,
        page_range=[n if isinstance(n, int) else "…" for n in elided],
        keep=dict(keep or {}),
    )
