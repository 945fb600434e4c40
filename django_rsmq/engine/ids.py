"""Message ids: RSMQ's format, ``base36(epoch µs)`` (10 chars) + 22 random ``[A-Za-z0-9]``.

The client makes the whole id before the send script runs (:func:`new_ids`), so a send
replayed after a lost reply carries the same id and send.lua recognises it (no second
message). The time part is the sending host's clock; the message's score (when it
becomes visible) stays Redis ``TIME``. This module also reads ids back.
"""

from __future__ import annotations

import os
import string
import threading
import time
from typing import Final

__all__ = ["new_id", "new_ids", "random_suffix", "sent_ms", "time_part"]

_ALPHABET: Final = string.ascii_letters + string.digits
_SUFFIX_LENGTH: Final = 22
# Random bytes below 248 (= 4 * 62) map uniformly onto the alphabet; the rest are dropped.
_ACCEPT: Final = 4 * len(_ALPHABET)
_TABLE: Final = bytes(ord(_ALPHABET[b % len(_ALPHABET)]) for b in range(256))
_REJECT: Final = bytes(range(_ACCEPT, 256))


def random_suffix() -> str:
    """The 22 random characters that follow the time part of an id.

    One ``os.urandom`` call (a send is on the hot path): 32 bytes leave 22 usable ones
    except with negligible probability, in which case we draw again.
    """
    while True:
        usable = os.urandom(32).translate(_TABLE, _REJECT)
        if len(usable) >= _SUFFIX_LENGTH:
            return usable[:_SUFFIX_LENGTH].decode("ascii")


_B36: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
# The low 4 digits as two lookups in a 1296-entry table; the high 6 change every 1.7 s.
_PAIRS: Final = tuple(a + b for a in _B36 for b in _B36)
_LOW: Final = 36**4
_high_cache: list[tuple[int, str]] = [(-1, "")]
_last_us = 0
_lock = threading.Lock()


def time_part(us: int) -> str:
    """``us`` (epoch µs) in base 36, 10 digits: RSMQ's id prefix (Node's
    ``Number#toString(36)``; 10 digits from 1973 to 2085, padded before that)."""
    high, low = divmod(us, _LOW)
    cached = _high_cache[0]
    if cached[0] == high:
        head = cached[1]
    else:
        digits = []
        n = high
        for _ in range(6):
            n, d = divmod(n, 36)
            digits.append(_B36[d])
        head = "".join(reversed(digits))
        _high_cache[0] = (high, head)
    hi2, lo2 = divmod(low, 1296)
    return head + _PAIRS[hi2] + _PAIRS[lo2]


def new_id() -> str:
    """One fresh id (:func:`new_ids` for one, inlined: this is the send hot path). No
    lock: two threads racing here may get the same µs, told apart by the random part."""
    global _last_us
    now = time.time_ns() // 1000
    if now <= _last_us:
        now = _last_us + 1
    _last_us = now
    high, low = divmod(now, _LOW)
    cached = _high_cache[0]
    head = cached[1] if cached[0] == high else time_part(now)[:6]
    hi2, lo2 = divmod(low, 1296)
    return head + _PAIRS[hi2] + _PAIRS[lo2] + random_suffix()


def new_ids(count: int = 1) -> list[str]:
    """``count`` fresh ids whose time parts are consecutive µs from now (so a batch
    sorts in FIFO order), each after any id this process made before."""
    global _last_us
    now = time.time_ns() // 1000
    with _lock:
        start = now if now > _last_us else _last_us + 1
        _last_us = start + count - 1
    return [time_part(start + n) + random_suffix() for n in range(count)]


def sent_ms(message_id: str) -> float:
    """Epoch milliseconds (with a fractional part) at which the message was sent.

    Node's ``parseInt(id.slice(0, 10), 36) / 1000``. Returns ``0.0`` for ids that
    were not made by an RSMQ client.
    """
    try:
        return int(message_id[:10], 36) / 1000
    except ValueError:
        return 0.0
