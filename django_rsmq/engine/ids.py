"""Message ids: RSMQ's format, ``base36(epoch µs)`` (10 chars) + 22 random ``[A-Za-z0-9]``.

The time part is computed inside the send script from Redis ``TIME`` (so ids and
scores share one clock); this module makes the random part and reads ids back.
"""

from __future__ import annotations

import random
import string
from typing import Final

__all__ = ["random_suffix", "sent_ms"]

_ALPHABET: Final = string.ascii_letters + string.digits
_SUFFIX_LENGTH: Final = 22
_rng = random.SystemRandom()


def random_suffix() -> str:
    """The 22 random characters that follow the time part of an id."""
    return "".join(_rng.choices(_ALPHABET, k=_SUFFIX_LENGTH))


def sent_ms(message_id: str) -> float:
    """Epoch milliseconds (with a fractional part) at which the message was sent.

    Node's ``parseInt(id.slice(0, 10), 36) / 1000``. Returns ``0.0`` for ids that
    were not made by an RSMQ client.
    """
    try:
        return int(message_id[:10], 36) / 1000
    except ValueError:
        return 0.0
