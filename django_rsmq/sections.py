"""The smaller sections of ``settings.RSMQ``: ``CONSUMER``, ``ADMIN``, ``HISTORY`` and
``OUTBOX``, each a frozen dataclass with its settings-key map and a parser.

:mod:`django_rsmq.conf` builds :class:`~django_rsmq.conf.RSMQSettings` from them (and
re-exports every name here); connections and queues, which the other sections refer
to, stay there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engine.history import HistoryConfig

__all__ = [
    "ADMIN_KEYS",
    "CONSUMER_KEYS",
    "HISTORY_KEYS",
    "OUTBOX_KEYS",
    "AdminSettings",
    "ConsumerSettings",
    "HistorySettings",
    "OutboxSettings",
    "admin",
    "consumer",
    "history",
    "outbox",
]

CONSUMER_KEYS: dict[str, str] = {
    "HEARTBEAT_INTERVAL": "heartbeat_interval",
    "REGISTRY_TTL": "registry_ttl",
    "WAIT": "wait",
    "POLL_INTERVAL": "poll_interval",
    "PROGRESS_INTERVAL": "progress_interval",
    "PREFETCH": "prefetch",
    "ACK_INTERVAL": "ack_interval",
}


#: settings key -> OutboxSettings field (RSMQ["OUTBOX"], docs/outbox.md)
OUTBOX_KEYS: dict[str, str] = {
    "RELAY": "relay",
    "DATABASES": "databases",
    "CONNECTION": "connection",
    "POLL_INTERVAL": "poll_interval",
    "BATCH_SIZE": "batch_size",
    "LEASE_TTL": "lease_ttl",
    "BACKOFF_MAX": "backoff_max",
}


ADMIN_KEYS: dict[str, str] = {
    "ENABLED": "enabled",
    "PAGE_SIZE": "page_size",
    "PERMISSION_CHECK": "permission_check",
    "SEARCH_BUDGET_BYTES": "search_budget_bytes",
    "SEARCH_BUDGET_SECONDS": "search_budget_seconds",
}


#: settings key -> HistorySettings field
HISTORY_KEYS: dict[str, str] = {
    "ENABLED": "enabled",
    "MINUTES": "minutes",
    "HOURS": "hours",
}


@dataclass(frozen=True)
class ConsumerSettings:
    heartbeat_interval: float = 5.0
    registry_ttl: float = 30.0
    wait: float = 1.0
    poll_interval: float = 1.0
    progress_interval: float = 10.0
    # Messages held beyond the busy workers (None: as many as the concurrency); see
    # docs/commands.md "Batched fetch and settle".
    prefetch: float | None = None
    # Acks of finished messages are coalesced for at most this long (0: ack each at once).
    ack_interval: float = 0.005
    unknown_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboxSettings:
    """``RSMQ["OUTBOX"]``: the transactional outbox's relay (docs/outbox.md)."""

    # None: a relay thread runs in rsmq_consume when the outbox is used (a queue with
    # OUTBOX: True); True/False: always / never
    relay: Any = None
    databases: Any = ("default",)  # the database aliases whose outbox tables are relayed
    connection: Any = "default"  # the Redis connection of the wake-up channel and lease
    poll_interval: Any = 1.0  # seconds between polls for rows whose wake-up was lost
    batch_size: Any = 500  # rows claimed, sent (send_many) and deleted per round
    lease_ttl: Any = 10.0  # seconds: the single-relay lease on SQLite/MySQL
    backoff_max: Any = 5.0  # seconds: the longest wait between retries while Redis is down
    unknown_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdminSettings:
    """``RSMQ["ADMIN"]``: the admin pages (docs/admin.md)."""

    enabled: bool = True  # register on django.contrib.admin.site
    page_size: int = 50
    permission_check: str | None = None  # dotted path of callable(request, action) -> bool
    search_budget_bytes: int = 32 * 1024 * 1024  # message bytes one search request reads
    search_budget_seconds: float = 1.0  # and how long it may take (checked between chunks)
    unknown_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistorySettings:
    """``RSMQ["HISTORY"]``: the stored metrics history (docs/admin.md, "History and
    charts"). Values as given (the system checks report bad ones, ``django_rsmq.E004``);
    :meth:`config` falls back to the defaults for those."""

    enabled: Any = True
    minutes: Any = 1440  # one-minute slots kept per queue (a day)
    hours: Any = 720  # one-hour slots kept per queue (30 days)
    unknown_keys: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        out = []
        if not isinstance(self.enabled, bool):
            out.append(f"ENABLED must be True or False, not {self.enabled!r}")
        for key, value, low, high in (
            ("MINUTES", self.minutes, 2, 100_000),
            ("HOURS", self.hours, 2, 100_000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                out.append(f"{key} must be a whole number from {low} to {high}, not {value!r}")
        return out

    def config(self) -> HistoryConfig:
        default = HistoryConfig()
        ok = not self.problems()
        return HistoryConfig(
            enabled=bool(self.enabled) if ok else default.enabled,
            minutes=int(self.minutes) if ok else default.minutes,
            hours=int(self.hours) if ok else default.hours,
        )


def _unknown(raw: dict[str, Any], keys: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted(str(k) for k in raw if k not in keys))


def consumer(raw: dict[str, Any]) -> ConsumerSettings:
    """``RSMQ["CONSUMER"]`` (a dict) as :class:`ConsumerSettings`."""
    return ConsumerSettings(
        **{CONSUMER_KEYS[k]: float(v) for k, v in raw.items() if k in CONSUMER_KEYS},
        unknown_keys=_unknown(raw, CONSUMER_KEYS),
    )


def admin(raw: dict[str, Any]) -> AdminSettings:
    """``RSMQ["ADMIN"]`` (a dict) as :class:`AdminSettings`."""
    return AdminSettings(
        **{ADMIN_KEYS[k]: v for k, v in raw.items() if k in ADMIN_KEYS},
        unknown_keys=_unknown(raw, ADMIN_KEYS),
    )


def history(raw: dict[str, Any]) -> HistorySettings:
    """``RSMQ["HISTORY"]`` (a dict) as :class:`HistorySettings`."""
    return HistorySettings(
        **{HISTORY_KEYS[k]: v for k, v in raw.items() if k in HISTORY_KEYS},
        unknown_keys=_unknown(raw, HISTORY_KEYS),
    )


def outbox(raw: dict[str, Any]) -> OutboxSettings:
    """``RSMQ["OUTBOX"]`` (a dict) as :class:`OutboxSettings`."""
    known = {OUTBOX_KEYS[k]: v for k, v in raw.items() if k in OUTBOX_KEYS}
    if isinstance(known.get("databases"), list):
        known["databases"] = tuple(known["databases"])
    return OutboxSettings(**known, unknown_keys=_unknown(raw, OUTBOX_KEYS))
