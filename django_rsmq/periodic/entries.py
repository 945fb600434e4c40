"""``RSMQ["SCHEDULE"]``: the periodic entries, parsed and validated, and their ticks.

An entry sends ``BODY`` to ``QUEUE`` at every tick of ``CRON`` (a five-field cron
expression, read by the ``cronsim`` library, in time zone ``TZ``) or of ``EVERY``
seconds (ticks at whole multiples of it since the epoch, so every host computes the
same ones). All times here are epoch seconds; the caller passes Redis' clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from ..conf import RSMQSettings, rsmq_settings
from ..engine.errors import InvalidName
from ..engine.validation import check_qname

__all__ = [
    "ENTRY_KEYS",
    "Entry",
    "Missed",
    "ScheduleError",
    "entries",
    "parse_schedule",
    "problems",
]

#: what happens to ticks that passed while no consumer ran (docs/periodic.md)
Missed = Literal["skip", "once"]
ENTRY_KEYS = frozenset({"QUEUE", "CRON", "EVERY", "BODY", "TZ", "MISSED", "GRACE"})
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_EPSILON = timedelta(microseconds=1)


class ScheduleError(ValueError):
    """An invalid ``RSMQ["SCHEDULE"]`` entry (system check ``django_rsmq.E040``)."""


@dataclass(frozen=True)
class Entry:
    """One periodic message."""

    name: str
    queue: str
    body: Any = None
    cron: str | None = None
    every: float | None = None
    tz: str = "UTC"
    missed: Missed = "skip"
    grace: float = 60.0  # a tick later than this is late (see docs/periodic.md)

    @property
    def spec(self) -> str:
        """The schedule as written: ``"0 3 * * * (Europe/Paris)"`` or ``"every 30 s"``."""
        if self.cron is not None:
            return f"{self.cron} ({self.tz})"
        return f"every {self.every:g} s"

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def last_tick(self, now: float) -> float:
        """The latest tick at or before ``now``."""
        if self.every is not None:
            return math.floor(now / self.every) * self.every
        assert self.cron is not None
        at = datetime.fromtimestamp(now, self._zone()) + _EPSILON
        return next(CronSim(self.cron, at, reverse=True)).timestamp()

    def next_tick(self, now: float) -> float:
        """The first tick after ``now``."""
        if self.every is not None:
            return (math.floor(now / self.every) + 1) * self.every
        assert self.cron is not None
        return next(CronSim(self.cron, datetime.fromtimestamp(now, self._zone()))).timestamp()

    def tick_before(self, tick: float) -> float:
        """The tick before ``tick``."""
        if self.every is not None:
            return tick - self.every
        assert self.cron is not None
        at = datetime.fromtimestamp(tick, self._zone())
        return next(CronSim(self.cron, at, reverse=True)).timestamp()


def _entry(name: Any, raw: Any) -> Entry:
    where = f"RSMQ['SCHEDULE'][{name!r}]"
    if not isinstance(name, str) or not _NAME.match(name):
        raise ScheduleError(f"{where}: a name is 1-100 of A-Z a-z 0-9 _ . -")
    if not isinstance(raw, dict):
        raise ScheduleError(f"{where} must be a dict, got {type(raw).__name__}")
    unknown = sorted(str(k) for k in raw if k not in ENTRY_KEYS)
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {', '.join(unknown)}")
    queue = raw.get("QUEUE")
    if not isinstance(queue, str):
        raise ScheduleError(f"{where}: QUEUE (a queue name) is required")
    try:
        check_qname(queue)
    except InvalidName as exc:
        raise ScheduleError(f"{where}: QUEUE: {exc}") from None
    cron, every = raw.get("CRON"), raw.get("EVERY")
    if (cron is None) == (every is None):
        raise ScheduleError(f"{where}: give exactly one of CRON and EVERY")
    tz = raw.get("TZ", "UTC")
    try:
        zone = ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{where}: unknown time zone TZ={tz!r}") from None
    if cron is not None:
        try:
            next(CronSim(str(cron), datetime.now(zone)))
        except (CronSimError, StopIteration) as exc:
            raise ScheduleError(f"{where}: CRON {cron!r}: {exc}") from None
    elif (
        isinstance(every, bool)
        or not isinstance(every, int | float)
        or not 1 <= every <= 86400 * 366
    ):
        raise ScheduleError(f"{where}: EVERY must be seconds 1..{86400 * 366}, got {every!r}")
    elif "TZ" in raw:
        raise ScheduleError(f"{where}: TZ applies to CRON only")
    missed = raw.get("MISSED", "skip")
    if missed not in ("skip", "once"):
        raise ScheduleError(f"{where}: MISSED must be 'skip' or 'once', got {missed!r}")
    grace = raw.get("GRACE", 60)
    if isinstance(grace, bool) or not isinstance(grace, int | float) or grace <= 0:
        raise ScheduleError(f"{where}: GRACE must be seconds > 0, got {grace!r}")
    return Entry(
        name=name,
        queue=queue,
        body=raw.get("BODY"),
        cron=str(cron) if cron is not None else None,
        every=float(every) if every is not None else None,
        tz=str(tz),
        missed=missed,
        grace=float(grace),
    )


def parse_schedule(raw: Any) -> tuple[dict[str, Entry], list[str]]:
    """The valid entries of a ``SCHEDULE`` value, and a message for each invalid one."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [f"RSMQ['SCHEDULE'] must be a dict, got {type(raw).__name__}"]
    out: dict[str, Entry] = {}
    problems = []
    for name, value in raw.items():
        try:
            out[name] = _entry(name, value)
        except ScheduleError as exc:
            problems.append(str(exc))
    return out, problems


_cache: tuple[RSMQSettings, dict[str, Entry], list[str]] | None = None


def _parsed() -> tuple[dict[str, Entry], list[str]]:
    global _cache
    cfg = rsmq_settings()  # a new object after every settings change
    if _cache is None or _cache[0] is not cfg:
        found, problems = parse_schedule(cfg.raw.get("SCHEDULE"))
        _cache = (cfg, found, problems)
    return _cache[1], _cache[2]


def entries() -> dict[str, Entry]:
    """The valid entries of ``settings.RSMQ["SCHEDULE"]`` (invalid ones are reported by
    the system checks and never sent)."""
    return _parsed()[0]


def problems() -> list[str]:
    """One message per invalid entry of ``settings.RSMQ["SCHEDULE"]``."""
    return _parsed()[1]
