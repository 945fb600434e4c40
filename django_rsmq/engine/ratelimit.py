"""A queue's rate limit: how many of its messages all consumers together may start per
period, enforced by the receive and pop scripts with a token bucket on Redis ``TIME``.

Stored in the queue hash as ``ext:rate`` = ``"<limit>:<period ms>:<burst>"``; the bucket's
state is ``ext:rl`` = ``"<tokens>:<ms>"`` (written by receive.lua / pop.lua, read by
next_due.lua, which tells a long poll when the next token is due).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from .errors import InvalidValue

__all__ = ["RATE_FIELD", "RateLimit"]

RATE_FIELD: Final = "ext:rate"
_UNITS: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}
_TEXT = re.compile(r"^\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([smh])\s*(?:burst\s+(\d+))?\s*$")
_LIMIT_MAX: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` message starts per ``period`` seconds, in bursts of at most ``burst``
    (default ``limit``: a queue idle for a period may start ``limit`` at once)."""

    limit: int
    period: float = 1.0
    burst: int = 0  # 0: the limit

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int):
            raise InvalidValue(f"a rate limit is a whole number of messages, got {self.limit!r}")
        if not 1 <= self.limit <= _LIMIT_MAX:
            raise InvalidValue(f"a rate limit must be 1..{_LIMIT_MAX} messages, got {self.limit}")
        if not 0.001 <= float(self.period) <= 86400:
            raise InvalidValue(f"a rate limit's period must be 0.001..86400 s, got {self.period}")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 0:
            raise InvalidValue(f"a rate limit's burst must be an int >= 1, got {self.burst!r}")
        if self.burst == 0:
            object.__setattr__(self, "burst", self.limit)

    @classmethod
    def parse(cls, value: Any) -> RateLimit:
        """``"100/s"``, ``"600/m"``, ``"10/5s"``, ``"100/s burst 20"``, a dict
        ``{"LIMIT": 100, "PER": 1, "BURST": 20}`` or a :class:`RateLimit`."""
        if isinstance(value, RateLimit):
            return value
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in ("LIMIT", "PER", "BURST"))
            if unknown or "LIMIT" not in value:
                raise InvalidValue(
                    "a rate limit dict has LIMIT and optional PER (seconds) and BURST, "
                    f"got {value!r}"
                )
            per = value.get("PER", 1)
            if isinstance(per, bool) or not isinstance(per, int | float):
                raise InvalidValue(f"a rate limit's PER must be seconds, got {per!r}")
            return cls(value["LIMIT"], float(per), value.get("BURST", 0))
        if isinstance(value, str):
            m = _TEXT.match(value)
            if m:
                number = float(m.group(2)) if m.group(2) not in ("", ".") else 1.0
                return cls(int(m.group(1)), number * _UNITS[m.group(3)], int(m.group(4) or 0))
        raise InvalidValue(
            f"a rate limit is like '100/s', '600/m', '10/5s' or '100/s burst 20', got {value!r}"
        )

    def to_field(self) -> str:
        return f"{self.limit}:{round(self.period * 1000)}:{self.burst}"

    @classmethod
    def from_field(cls, raw: str) -> RateLimit | None:
        """The stored form back (``None`` for a value some other writer left)."""
        parts = raw.split(":")
        try:
            limit, period_ms, burst = (int(p) for p in parts)
            return cls(limit, period_ms / 1000, burst)
        except (ValueError, InvalidValue):
            return None

    def __str__(self) -> str:
        per = f"{self.period:g}s" if self.period != 1 else "s"
        extra = f" burst {self.burst}" if self.burst != self.limit else ""
        return f"{self.limit}/{per}{extra}"
