"""System checks of ``RSMQ["SCHEDULE"]`` (docs/periodic.md)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from ..conf import rsmq_settings
from .entries import entries, problems
from .ticker import LEASE

__all__ = ["check_schedule"]


@register("rsmq")
def check_schedule(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E040: an invalid entry (it is never sent). W040: an entry whose queue forgets
    de-duplication ids sooner than a tick's claim lease, so a consumer killed between
    sending a tick and recording it can get that tick sent twice."""
    out: list[CheckMessage] = [
        Error(p, obj="settings.RSMQ['SCHEDULE']", id="django_rsmq.E040") for p in problems()
    ]
    cfg = rsmq_settings()
    for entry in entries().values():
        window = cfg.queue(entry.queue).dedup_window
        if window is not None and window < LEASE:
            out.append(
                Warning(
                    f"RSMQ['SCHEDULE'][{entry.name!r}]: queue {entry.queue!r} has "
                    f"DEDUP_WINDOW {window!r} (< {LEASE:g} s, the claim lease of a tick): a "
                    "consumer killed after sending a tick and before recording it may get "
                    "that tick sent twice",
                    hint=f"Give {entry.queue!r} a DEDUP_WINDOW of at least {LEASE:g} seconds.",
                    obj=f"settings.RSMQ['SCHEDULE'][{entry.name!r}]",
                    id="django_rsmq.W040",
                )
            )
    return out
