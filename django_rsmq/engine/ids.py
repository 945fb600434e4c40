"""Message ids: RSMQ's format, ``base36(epoch µs)`` (10 chars) + 22 random ``[A-Za-z0-9]``.

The time part is computed inside the send script from Redis ``TIME`` (so ids and
scores share one clock); this module makes the random part and reads ids back.
"""

from __future__ import annotations

import os
import string
from typing import Final

__all__ = ["random_suffix", "sent_ms"]

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


def sent_ms(message_id: str) -> float:
    """Epoch milliseconds (with a fractional part) at which the message was sent.

    Node's ``parseInt(id.slice(0, 10), 36) / 1000``. Returns ``0.0`` for ids that
    were not made by an RSMQ client.
    """
    try:
        return int(message_id[:10], 36) / 1000
    except ValueError:
        return 0.0
