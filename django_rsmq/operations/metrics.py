"""Prometheus text exposition of :func:`django_rsmq.operations.stats.collect` (no client library
needed). Served by the admin's and ``django_rsmq.urls``' ``metrics`` view.

Metrics (label ``queue``, and ``state`` for ``rsmq_messages``):

* ``rsmq_messages{queue,state="visible|in_flight|delayed|failed|dead"}`` gauge
* ``rsmq_sent_total{queue}``, ``rsmq_received_total{queue}`` counters
* ``rsmq_oldest_message_age_seconds{queue}`` gauge
* ``rsmq_consumers{queue}`` gauge (live consumers of the queue)
* ``rsmq_consumers_total{state="alive|stale"}`` gauge
* ``rsmq_schedule_next_run_timestamp_seconds{entry,queue}`` and
  ``rsmq_schedule_last_run_timestamp_seconds{entry,queue}`` gauges (``RSMQ["SCHEDULE"]``)
* ``rsmq_queue_paused{queue}`` gauge (1 while the queue is paused)
* ``rsmq_malformed_queues`` gauge (names in ``{ns}:QUEUES`` skipped as malformed)
* ``rsmq_up`` gauge: 1, or 0 when Redis could not be read (:func:`render_down`; then no
  other family is present, and the response is still a 200 so the scrape is not blind)
* ``rsmq_outbox_rows{database}``, ``rsmq_outbox_oldest_age_seconds{database}``,
  ``rsmq_outbox_failing_rows{database}``, ``rsmq_outbox_relays`` gauges (when the
  transactional outbox is used)
"""

from __future__ import annotations

from collections.abc import Iterable

from .stats import QueueStats, Stats

__all__ = ["CONTENT_TYPE", "render", "render_down"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_STATES = (
    ("visible", "visible"),
    ("in_flight", "in_flight"),
    ("delayed", "delayed"),
    ("failed", "failed"),
    ("dead", "dlq"),
)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{text}}} {_num(value)}" if text else f"{name} {_num(value)}")
    return lines


def _queues(stats: Stats) -> list[QueueStats]:
    return [q for q in stats.queues if q.exists]


def render(stats: Stats) -> str:
    """The exposition text for one stats snapshot."""
    qs = _queues(stats)
    messages = [
        ({"queue": q.name, "state": state}, value)
        for q in qs
        for state, attr in _STATES
        if (value := getattr(q, attr)) is not None
    ]
    alive = sum(1 for c in stats.consumers if c.alive)
    lines = [
        *_up(1),
        *_family("rsmq_messages", "gauge", "Messages by queue and state.", messages),
        *_family(
            "rsmq_sent_total",
            "counter",
            "Messages sent to the queue (RSMQ totalsent).",
            [({"queue": q.name}, q.sent or 0) for q in qs],
        ),
        *_family(
            "rsmq_received_total",
            "counter",
            "Messages received from the queue (RSMQ totalrecv).",
            [({"queue": q.name}, q.received or 0) for q in qs],
        ),
        *_family(
            "rsmq_oldest_message_age_seconds",
            "gauge",
            "Age of the message at the head of the queue (0 when empty).",
            [({"queue": q.name}, float(q.oldest_age or 0.0)) for q in qs],
        ),
        *_family(
            "rsmq_consumers",
            "gauge",
            "Live consumers of the queue.",
            [({"queue": q.name}, q.consumers) for q in qs],
        ),
        *_family(
            "rsmq_consumers_total",
            "gauge",
            "Known consumers by state.",
            [({"state": "alive"}, alive), ({"state": "stale"}, len(stats.consumers) - alive)],
        ),
        *_family(
            "rsmq_queue_paused",
            "gauge",
            "1 while the queue is paused (consumers receive nothing from it).",
            [({"queue": q.name}, int(bool(q.paused))) for q in qs if q.paused is not None],
        ),
        *_family(
            "rsmq_malformed_queues",
            "gauge",
            "Names in the queue set that are no valid queue name (skipped).",
            [({}, stats.malformed_queues)],
        ),
    ]
    if stats.outbox:
        lines += _outbox(stats)
    if stats.schedule:
        lines += _schedule(stats)
    return "\n".join(lines) + "\n"


def _up(value: int) -> list[str]:
    return _family("rsmq_up", "gauge", "1 if Redis could be read, else 0.", [({}, value)])


def render_down() -> str:
    """The exposition text when Redis is unreachable: ``rsmq_up 0``."""
    return "\n".join(_up(0)) + "\n"


def _outbox(stats: Stats) -> list[str]:
    read = [o for o in stats.outbox if o.depth is not None]
    return [
        *_family(
            "rsmq_outbox_rows",
            "gauge",
            "Committed outbox rows not relayed to Redis yet.",
            [({"database": o.database}, o.depth or 0) for o in read],
        ),
        *_family(
            "rsmq_outbox_oldest_age_seconds",
            "gauge",
            "Age of the oldest outbox row (0 when empty).",
            [({"database": o.database}, float(o.oldest_age or 0.0)) for o in read],
        ),
        *_family(
            "rsmq_outbox_failing_rows",
            "gauge",
            "Outbox rows whose last send failed (queue full, too long, no queue).",
            [({"database": o.database}, o.failing or 0) for o in read],
        ),
        *_family(
            "rsmq_outbox_relays",
            "gauge",
            "Outbox relays running (registry heartbeats).",
            [({}, stats.outbox[0].relays)],
        ),
    ]


def _schedule(stats: Stats) -> list[str]:
    labels = [({"entry": e.entry.name, "queue": e.entry.queue}, e) for e in stats.schedule]
    return [
        *_family(
            "rsmq_schedule_next_run_timestamp_seconds",
            "gauge",
            "When the periodic message's next tick is due (epoch seconds).",
            [(lab, float(e.next_run)) for lab, e in labels],
        ),
        *_family(
            "rsmq_schedule_last_run_timestamp_seconds",
            "gauge",
            "When the periodic message was last sent, a tick or run now (0: never).",
            [(lab, float(e.last_run or 0.0)) for lab, e in labels],
        ),
    ]
