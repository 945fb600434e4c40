"""What long polls need from Redis besides receive: when the next message comes due."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import ResponseError

from .. import scripts
from ..errors import QueueNotFound
from .base import Call, ProtocolBase, _status, to_str


@dataclass(frozen=True, slots=True)
class Due:
    """Per queue, in seconds from Redis' ``now``: ``0.0`` when a message is receivable,
    the time until the earliest delayed/hidden one becomes receivable, ``None`` if empty
    or unusable. ``errors`` holds the unusable queues' errors: :class:`QueueNotFound`
    for a deleted queue, Redis' ``ResponseError`` for one whose keys cannot be read."""

    now_ms: int
    due_in: tuple[float | None, ...]
    errors: Mapping[str, Exception] = field(default_factory=dict)

    def soonest(self) -> float | None:
        known = [d for d in self.due_in if d is not None]
        return min(known) if known else None


class WaitingOps(ProtocolBase):
    def next_due(self, qnames: Sequence[str]) -> Call[Due]:
        """One read-only call over several queues. A deleted or unreadable queue does
        not fail the call: it is reported in :attr:`Due.errors`."""
        names = list(qnames)
        keys: list[str] = []
        for qname in names:
            q = self._q(qname)
            keys += [q.hash, q.zset, q.in_flight]

        def parse(reply: Any) -> Due:
            r = _status(reply, names[0] if names else "")
            now = int(r[1])
            due: list[float | None] = []
            errors: dict[str, Exception] = {}
            for qname, score in zip(names, r[2:], strict=True):
                if score is None:
                    due.append(None)
                    continue
                text = to_str(score)
                if text.startswith("!"):
                    errors[qname] = ResponseError(f"queue {qname!r}: {text[1:]}")
                    due.append(None)
                    continue
                ms = float(text)
                if ms < 0:
                    errors[qname] = QueueNotFound(qname)
                    due.append(None)
                    continue
                due.append(max(ms - now, 0.0) / 1000)
            return Due(now, tuple(due), errors)

        return Call(scripts.get("next_due"), tuple(keys), (), parse)
