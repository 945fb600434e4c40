"""How the consumer's threads report errors they survive.

Every loop of the consumer (fetcher, workers, visibility keeper, presence) catches
every :class:`Exception`, logs it and goes on. :class:`Trouble` logs each *kind* of
error once (with its text), until the loop works again: a Redis outage is one line,
not one per second. Expected outage errors (:func:`is_outage`) never carry a
traceback; neither do Redis' own error replies (``OOM``, ``READONLY``, ``BUSY``) or the
engine's typed errors. Anything else is a bug and is logged with its traceback.
"""

from __future__ import annotations

import logging
import threading

import redis

from ..engine.errors import RSMQError

__all__ = ["Trouble", "describe", "is_outage"]

log = logging.getLogger("django_rsmq.consumer")


def describe(exc: BaseException) -> str:
    """``"Type: text"``: redis-py 8's ``repr()`` of an error carries no text at all."""
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def is_outage(exc: BaseException) -> bool:
    """A connection or timeout error (or the engine's ``ReplyLost``): Redis is
    unreachable or a reply was lost; retrying later is all there is to do."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | ConnectionError):
        return True
    return any(cls.__name__ == "ReplyLost" for cls in type(exc).__mro__)


def expected(exc: BaseException) -> bool:
    """An error whose text says it all (no traceback needed)."""
    return is_outage(exc) or isinstance(exc, redis.RedisError | RSMQError)


class Trouble:
    """Logs an error of a loop once per kind until :meth:`ok` says it works again."""

    def __init__(self, what: str, level: int = logging.WARNING) -> None:
        self.what = what
        self.level = level
        self._lock = threading.Lock()
        self._seen: set[str] = set()

    def report(self, exc: BaseException, retry_in: float | None = None) -> None:
        kind = type(exc).__name__
        with self._lock:
            first = kind not in self._seen
            self._seen.add(kind)
        then = f" (retrying in {retry_in:.1f}s)" if retry_in is not None else ""
        if not first:
            log.debug("%s failed again%s: %s", self.what, then, describe(exc))
            return
        log.log(
            self.level,
            "%s failed%s: %s",
            self.what,
            then,
            describe(exc),
            exc_info=None if expected(exc) else exc,
        )

    def ok(self) -> None:
        if not self._seen:  # the usual case, without the lock (a set's truth is atomic)
            return
        with self._lock:
            if not self._seen:
                return
            kinds = ", ".join(sorted(self._seen))
            self._seen.clear()
        log.info("%s works again (after %s)", self.what, kinds)
