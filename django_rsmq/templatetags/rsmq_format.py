"""Template filters of the RSMQ admin: ``{% load rsmq_format %}``.

``{{ 565.9|duration }}`` → ``9 min 26 s``; ``{{ 12345|thousands }}`` → ``12,345``;
``{{ 1234.567|rate }}`` → ``1,234.6``. ``None`` (unknown) renders as an en dash in each.
"""

from __future__ import annotations

from typing import Any

from django import template

__all__ = ["duration", "rate", "thousands"]

register = template.Library()

DASH = "\u2013"  # an en dash: unknown


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@register.filter
def duration(value: Any) -> str:
    """Seconds as a short human duration: ``850 ms``, ``4.2 s``, ``9 min 26 s``,
    ``3 h 5 min``, ``2 d 4 h``."""
    s = _number(value)
    if s is None:
        return DASH
    if s <= 0:
        return "0 s"
    if s < 1:
        ms = s * 1000
        return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"
    if s < 10:
        return f"{s:.1f} s"
    whole = round(s)
    if whole < 60:
        return f"{whole} s"
    minutes, sec = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def thousands(value: Any) -> str:
    """A whole number with thousands separators (``12,345``)."""
    n = _number(value)
    if n is None:
        return DASH
    return f"{round(n):,}"


@register.filter
def rate(value: Any) -> str:
    """A per-minute rate: one decimal under 1,000 (``0.3``, ``12.5``), whole above."""
    n = _number(value)
    if n is None:
        return DASH
    if abs(n) >= 1000:
        return f"{n:,.0f}"
    text = f"{n:.1f}"
    return "0" if text in ("0.0", "-0.0") else text
