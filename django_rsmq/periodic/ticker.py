"""Sending periodic messages: which tick is due, the one-sender-per-tick claim, the
missed-tick policy, "run now" and the status of each entry.

A pass (:meth:`Ticker.run_due`) reads Redis' clock and, for every entry whose latest
tick is not handled yet in the ledger (:mod:`django_rsmq.engine.ledger`), decides
(:func:`decide`), claims the tick, sends (with the de-duplication id
``periodic:<name>:<tick ms>``) and records it. The claim makes one consumer the sender;
the dedup id makes a claim taken over from a consumer that died after sending harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

from ..connections import rsmq_for_queue
from ..engine.ledger import Ledger
from ..engine.registry import server_time
from ..producer import send
from .entries import Entry, entries

__all__ = ["LEASE", "Ticker", "decide", "run_now"]

log = logging.getLogger("django_rsmq.periodic")

#: seconds a consumer holds the claim on a tick it sends; another consumer takes the tick
#: over after it (so a claimant that dies costs this long, not the tick)
LEASE = 10.0

Decision = Literal["send", "skip", "none"]


def decide(entry: Entry, tick: float, handled: float | None, now: float) -> Decision:
    """What to do with ``tick`` (the entry's latest tick at ``now``) when the ledger's
    last handled tick is ``handled`` (``None``: the entry never ran).

    A tick more than ``GRACE`` seconds old is *late*. ``MISSED="skip"``: a late tick is
    skipped (recorded, not sent), so ticks that passed while nothing ran are dropped.
    ``MISSED="once"``: if ticks were missed since the last handled one, or this one is
    late, one message is sent now for all of them. An entry that never ran has missed
    nothing: its first tick is sent if it is on time, else only recorded."""
    if handled is not None and handled >= tick:
        return "none"
    late = now - tick > entry.grace
    if handled is None or entry.missed == "skip":
        return "skip" if late else "send"
    return "send"


def _dedup_id(entry: Entry, tick_ms: int) -> str:
    return f"periodic:{entry.name}:{tick_ms}"


class Ticker:
    """Runs the schedule for one consumer (``owner``: its name)."""

    def __init__(self, owner: str, only: Iterable[Entry] | None = None) -> None:
        self.owner = owner
        self._only = list(only) if only is not None else None

    def entries(self) -> list[Entry]:
        return self._only if self._only is not None else list(entries().values())

    def run_due(self) -> float | None:
        """Send every due tick; return the seconds until the next tick of any entry (by
        Redis' clock), or ``None`` without entries."""
        nxt: float | None = None
        for entry in self.entries():
            rsmq = rsmq_for_queue(entry.queue)
            ledger = Ledger(rsmq.client, rsmq.namespace)
            now = server_time(rsmq.client.time())
            self._run_entry(entry, ledger, now)
            upcoming = entry.next_tick(now) - now
            nxt = upcoming if nxt is None else min(nxt, upcoming)
        return nxt

    def _run_entry(self, entry: Entry, ledger: Ledger, now: float) -> None:
        tick = entry.last_tick(now)
        handled = ledger.states([entry.name])[entry.name].tick
        what = decide(entry, tick, handled, now)
        if what == "none":
            return
        tick_ms = round(tick * 1000)
        if ledger.claim(entry.name, tick_ms, self.owner, LEASE) != "claimed":
            return
        message_id = ""
        if what == "send":
            message_id = send(entry.queue, entry.body, dedup_id=_dedup_id(entry, tick_ms))
            log.info(
                "periodic %s: sent tick %s to %s as %s",
                entry.name,
                tick_ms,
                entry.queue,
                message_id,
            )
        else:
            log.info(
                "periodic %s: tick %s is late (GRACE %gs): skipped",
                entry.name,
                tick_ms,
                entry.grace,
            )
        ledger.done(entry.name, tick_ms, self.owner, message_id)


def _entry(name: str) -> Entry:
    found = entries().get(name)
    if found is None:
        raise LookupError(f"No periodic entry {name!r} in RSMQ['SCHEDULE']")
    return found


def run_now(name: str) -> str:
    """Send entry ``name``'s message now, outside its ticks; returns the message id.
    Recorded in the ledger as the entry's last "run now"."""
    entry = _entry(name)
    message_id = send(entry.queue, entry.body)
    rsmq = rsmq_for_queue(entry.queue)
    Ledger(rsmq.client, rsmq.namespace).ran_now(entry.name, message_id)
    return message_id
