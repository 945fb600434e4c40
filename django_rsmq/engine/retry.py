"""Retry policies: how long a failed (nacked) message waits before it is receivable again.

A policy is stored with the queue (one hash field, JSON) and applied inside the
``nack``/``fail`` scripts, so every consumer of a queue retries the same way. The
delay is chosen from the message's receive count ``rc`` (1 after the first delivery):

* :meth:`RetryPolicy.fixed` — ``delays[rc - 1]``, the last delay repeating once the
  list is exhausted: ``RetryPolicy.fixed(1, 10, 60)``.
* :meth:`RetryPolicy.exponential` — ``min(max, base * factor ** (rc - 1))``, then
  reduced by up to ``jitter`` (a fraction, 0..1) at random so that consumers that
  failed together do not retry together.

:meth:`RetryPolicy.delay` computes the same value in Python (the Lua copy is
``retry_delay_ms`` in ``scripts/_lib.lua``; a test keeps the two in step).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import InvalidValue
from .validation import SECONDS_MAX

__all__ = ["RetryPolicy"]


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"{name} must be a number of seconds, got {value!r}")
    v = float(value)
    if math.isnan(v) or not 0 <= v <= SECONDS_MAX:
        raise InvalidValue(f"{name} must be between 0 and {SECONDS_MAX} seconds, got {value!r}")
    return v


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off between attempts. Build one with :meth:`fixed` or :meth:`exponential`."""

    delays: tuple[float, ...] = ()
    base: float = 0.0
    factor: float = 2.0
    max: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        for d in self.delays:
            _seconds("a retry delay", d)
        _seconds("base", self.base)
        _seconds("max", self.max)
        if isinstance(self.factor, bool) or not isinstance(self.factor, int | float):
            raise InvalidValue(f"factor must be a number >= 1, got {self.factor!r}")
        if not 1 <= self.factor <= 100:
            raise InvalidValue(f"factor must be between 1 and 100, got {self.factor!r}")
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, int | float):
            raise InvalidValue(f"jitter must be a fraction between 0 and 1, got {self.jitter!r}")
        if not 0 <= self.jitter <= 1:
            raise InvalidValue(f"jitter must be between 0 and 1, got {self.jitter!r}")
        if not self.delays and self.max < self.base:
            raise InvalidValue(f"max ({self.max}) must be >= base ({self.base})")

    @classmethod
    def fixed(cls, *delays: float) -> RetryPolicy:
        """Wait ``delays[0]`` after the first failure, ``delays[1]`` after the second, …;
        the last delay repeats."""
        if not delays:
            raise InvalidValue("RetryPolicy.fixed() needs at least one delay")
        return cls(delays=tuple(float(_seconds("a retry delay", d)) for d in delays))

    @classmethod
    def exponential(
        cls, base: float = 1.0, factor: float = 2.0, max: float = 300.0, jitter: float = 0.1
    ) -> RetryPolicy:
        """``min(max, base * factor ** (rc - 1))`` seconds, minus up to ``jitter`` of it."""
        return cls(base=float(base), factor=float(factor), max=float(max), jitter=float(jitter))

    @property
    def kind(self) -> str:
        return "fixed" if self.delays else "exponential"

    def delay(self, rc: int, u: float = 0.0) -> float:
        """The delay in seconds after delivery number ``rc`` failed; ``u`` in [0, 1) is
        the random draw for the jitter (the scripts get it from the client)."""
        n = max(rc, 1)
        if self.delays:
            return self.delays[min(n, len(self.delays)) - 1]
        try:
            d = min(self.max, self.base * self.factor ** (n - 1))
        except OverflowError:  # Lua gets inf here, and min() gives max as well
            d = self.max
        return d * (1 - self.jitter * u)

    def to_field(self) -> str:
        """The hash-field form: compact JSON (ASCII)."""
        data: dict[str, Any]
        if self.delays:
            data = {"delays": list(self.delays)}
        else:
            data = {"base": self.base, "factor": self.factor, "max": self.max}
            data["jitter"] = self.jitter
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_field(cls, value: str | bytes) -> RetryPolicy:
        text = value.decode() if isinstance(value, bytes) else value
        try:
            data = json.loads(text)
            if "delays" in data:
                return cls.fixed(*data["delays"])
            return cls.exponential(data["base"], data["factor"], data["max"], data["jitter"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidValue(f"unreadable retry policy {text!r}: {exc}") from exc
