"""Parameter validation with RSMQ's rules and ranges (Node ``rsmq`` ``_validate``)."""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Final

from .errors import InvalidName, InvalidValue

__all__ = [
    "MAXSIZE_DEFAULT",
    "MAXSIZE_MAX",
    "MAXSIZE_MIN",
    "QNAME_MAX_LENGTH",
    "SECONDS_MAX",
    "check_duration",
    "check_int_seconds",
    "check_maxsize",
    "check_message_id",
    "check_qname",
]

QNAME_MAX_LENGTH: Final = 160
# fullmatch, not match: "$" would also accept a trailing newline.
QNAME_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,160}")
MESSAGE_ID_RE: Final = re.compile(r"[A-Za-z0-9:]{32}")
SECONDS_MAX: Final = 9_999_999
MAXSIZE_MIN: Final = 1024
MAXSIZE_MAX: Final = 65536
MAXSIZE_DEFAULT: Final = 65536


def check_qname(qname: object) -> str:
    """Return ``qname`` if it is a valid RSMQ queue name, else raise :class:`InvalidName`."""
    if not isinstance(qname, str) or not qname:
        raise InvalidName(f"No qname supplied: expected a non-empty str, got {qname!r}")
    if not QNAME_RE.fullmatch(qname):
        raise InvalidName(
            f"Invalid qname format: {qname!r}; a queue name is 1 to {QNAME_MAX_LENGTH} "
            "characters from A-Z a-z 0-9 _ - (PyRSMQ peers accept at most 64)"
        )
    return qname


def check_message_id(message_id: object) -> str:
    """Return ``message_id`` if it has RSMQ's id format (32 chars of ``[A-Za-z0-9:]``)."""
    if not isinstance(message_id, str) or not message_id:
        raise InvalidName(f"No id supplied: expected a 32-character str, got {message_id!r}")
    if not MESSAGE_ID_RE.fullmatch(message_id):
        raise InvalidName(
            f"Invalid id format: {message_id!r}; a message id is 32 characters from A-Z a-z 0-9 :"
        )
    return message_id


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InvalidValue(
            f"{name} must be a number of seconds between 0 and {SECONDS_MAX}, got {value!r}"
        )
    try:
        v = float(value)
    except OverflowError:  # an int or Fraction too large for a float
        v = math.inf
    if math.isnan(v) or v < 0 or v > SECONDS_MAX:
        raise InvalidValue(f"{name} must be between 0 and {SECONDS_MAX}, got {value!r}")
    return v


def check_int_seconds(name: str, value: object) -> int:
    """A queue attribute in whole seconds (``vt``, ``delay``): what Node reads with parseInt."""
    v = _number(name, value)
    if v != int(v):
        raise InvalidValue(
            f"{name} must be a whole number of seconds between 0 and {SECONDS_MAX} "
            f"(RSMQ peers store and read integers), got {value!r}"
        )
    return int(v)


def check_duration(name: str, value: object) -> int:
    """A per-call duration in seconds (receive vt, send delay, visibility change).

    Fractions are allowed: they only affect the millisecond score, which every RSMQ
    client reads the same way. Returns milliseconds.
    """
    return round(_number(name, value) * 1000)


def check_maxsize(value: object) -> int:
    """``maxsize`` in bytes: 1024..65536, or -1 for unlimited."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(
            f"maxsize must be an int between {MAXSIZE_MIN} and {MAXSIZE_MAX} or -1, got {value!r}"
        )
    if value != -1 and not MAXSIZE_MIN <= value <= MAXSIZE_MAX:
        raise InvalidValue(
            f"maxsize must be between {MAXSIZE_MIN} and {MAXSIZE_MAX} (or -1 for unlimited), "
            f"got {value!r}"
        )
    return value
