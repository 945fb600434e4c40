"""The ledger of periodic messages: which tick of each schedule entry was handled, who
is sending one now, and when each entry last sent.

One hash per namespace (``Keys.schedule``), written only by two scripts:
``periodic_claim.lua`` (a consumer claims a due tick, with a lease) and
``periodic_done.lua`` (the tick is handled: sent or skipped). The schedule itself (cron
expressions, bodies) lives in the Django settings, not here; the engine knows only names
and tick times (epoch ms, from the caller) and stamps everything else with Redis ``TIME``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import redis

from . import scripts
from .keys import Keys

__all__ = ["Claim", "EntryState", "Ledger"]

#: what :meth:`Ledger.claim` answers: the caller sends, the tick was handled already, or
#: another consumer holds an unexpired claim on it
Claim = Literal["claimed", "done", "taken"]
_CLAIM = {1: "claimed", 0: "done", -1: "taken"}


@dataclass(frozen=True, slots=True)
class EntryState:
    """What the ledger holds for one entry (times in epoch seconds, ``None``: never)."""

    name: str
    tick: float | None = None  # the last tick handled (sent or skipped)
    sent: float | None = None  # when the last tick's message was sent
    message_id: str = ""  # that message's id
    manual: float | None = None  # when "run now" last sent
    manual_id: str = ""


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _ms(v: Any) -> float | None:
    try:
        return int(_s(v)) / 1000 if v is not None else None
    except ValueError:  # written by something else: read as never
        return None


class Ledger:
    """Reads and writes the periodic-message ledger of one namespace."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.key = Keys(namespace).schedule

    def _run(self, name: str, *args: Any) -> Any:
        script = scripts.get(name)
        try:
            return self.client.evalsha(script.sha, 1, self.key, *args)
        except redis.exceptions.NoScriptError:
            return self.client.eval(script.source, 1, self.key, *args)

    def claim(self, name: str, tick_ms: int, owner: str, lease: float) -> Claim:
        """Claim tick ``tick_ms`` of entry ``name`` for ``owner`` for ``lease`` seconds."""
        reply = self._run("periodic_claim", name, tick_ms, owner, max(1, int(lease * 1000)))
        claim: Claim = _CLAIM[int(reply)]  # type: ignore[assignment]
        return claim

    def done(self, name: str, tick_ms: int, owner: str, message_id: str = "") -> None:
        """Record tick ``tick_ms`` as handled (sent as ``message_id``, or skipped with
        ``""``) and release ``owner``'s claim."""
        self._run("periodic_done", name, tick_ms, owner, message_id, "tick")

    def ran_now(self, name: str, message_id: str) -> None:
        """Record a "run now" of entry ``name`` that sent ``message_id``."""
        self._run("periodic_done", name, 0, "", message_id, "manual")

    def states(self, names: Iterable[str]) -> dict[str, EntryState]:
        """The ledger's record of each entry (one ``HMGET``)."""
        names = list(names)
        if not names:
            return {}
        suffixes = ("tick", "sent", "id", "manual")
        fields = [f"{n}:{s}" for n in names for s in suffixes]
        values = self.client.hmget(self.key, fields)
        out = {}
        for i, name in enumerate(names):
            tick, sent, mid, manual = values[i * 4 : i * 4 + 4]
            manual_at, _, manual_id = _s(manual).partition(":") if manual else ("", "", "")
            out[name] = EntryState(
                name=name,
                tick=_ms(tick),
                sent=_ms(sent),
                message_id=_s(mid) if mid is not None else "",
                manual=_ms(manual_at) if manual_at else None,
                manual_id=manual_id,
            )
        return out

    def forget(self, name: str) -> None:
        """Drop every field of entry ``name`` (an entry removed from the settings)."""
        self.client.hdel(
            self.key, *(f"{name}:{s}" for s in ("tick", "claim", "sent", "id", "manual"))
        )
