"""System checks of the transactional outbox (listed in docs/django.md).

==========  =====================================================================
id          fires when
==========  =====================================================================
E030        an invalid ``RSMQ["OUTBOX"]`` value or unknown key, or a queue's
            ``OUTBOX`` that is not True/False
W031        (deploy) the outbox is used (a queue with ``OUTBOX: True``, or rows in
            an outbox table) and no relay is running (the relay registry)
W032        a queue with ``OUTBOX: True`` has a ``DEDUP_WINDOW`` under 60 s
==========  =====================================================================
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from ..conf import OUTBOX_KEYS, OutboxSettings, RSMQSettings, rsmq_settings
from ..engine.reliability import DEDUP_WINDOW_DEFAULT

__all__ = ["check_outbox_relay", "check_outbox_settings"]

TAG = "rsmq"
WHERE = "RSMQ['OUTBOX']"
#: below this a crashed relay restarted by hand may resend a row the window forgot
DEDUP_WINDOW_MIN = 60.0


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _problems(out: OutboxSettings, cfg: RSMQSettings) -> Iterable[str]:
    for key in out.unknown_keys:
        yield f"unknown key {key!r} (keys: {', '.join(sorted(OUTBOX_KEYS))})"
    if out.relay not in (None, True, False):
        yield f"RELAY must be None, True or False, got {out.relay!r}"
    dbs = out.databases
    if not (isinstance(dbs, tuple) and dbs and all(isinstance(d, str) for d in dbs)):
        yield f"DATABASES must be a non-empty list of database aliases, got {dbs!r}"
    else:
        from django.conf import settings

        for d in dbs:
            if d not in settings.DATABASES:
                yield f"DATABASES: {d!r} is not in settings.DATABASES"
    if out.connection not in cfg.connections:
        yield f"CONNECTION {out.connection!r} is not in RSMQ['CONNECTIONS']"
    for key in ("poll_interval", "lease_ttl", "backoff_max"):
        v = getattr(out, key)
        if not (_number(v) and 0 < v <= 3600):
            yield f"{key.upper()} must be seconds > 0 (at most 3600), got {v!r}"
    b = out.batch_size
    if not (isinstance(b, int) and not isinstance(b, bool) and 1 <= b <= 1000):
        yield f"BATCH_SIZE must be an int 1..1000, got {b!r}"


@register(TAG)
def check_outbox_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        cfg = rsmq_settings()
    except (ImproperlyConfigured, TypeError, ValueError):
        return []  # django_rsmq.E001 reports it
    found: list[CheckMessage] = [
        Error(f"{WHERE}: {p}", obj=WHERE, id="django_rsmq.E030") for p in _problems(cfg.outbox, cfg)
    ]
    for name, q in sorted(cfg.queues.items()):
        where = f"RSMQ['QUEUES'][{name!r}]"
        if not isinstance(q.outbox, bool):
            found.append(
                Error(
                    f"{where}: OUTBOX must be True or False, got {q.outbox!r}",
                    obj=where,
                    id="django_rsmq.E030",
                )
            )
            continue
        window = DEDUP_WINDOW_DEFAULT if q.dedup_window is None else q.dedup_window
        if q.outbox and _number(window) and window < DEDUP_WINDOW_MIN:
            found.append(
                Warning(
                    f"{where}: OUTBOX with DEDUP_WINDOW {window}: a relay that crashed "
                    "between its send and its delete and restarts later than that "
                    "enqueues those rows a second time",
                    hint=f"Keep DEDUP_WINDOW at least {DEDUP_WINDOW_MIN:.0f} s (default "
                    f"{DEDUP_WINDOW_DEFAULT:.0f})",
                    obj=where,
                    id="django_rsmq.W032",
                )
            )
    return found


def _has_rows(alias: str) -> bool:
    from .model import OutboxMessage

    try:
        return OutboxMessage.objects.using(alias).exists()
    except Exception:  # not migrated yet (migrate reports it), unreachable, not allowed
        return False
    finally:
        connections[alias].close()


@register(TAG, Tags.database, deploy=True)
def check_outbox_relay(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        cfg = rsmq_settings()
        databases = [d for d in cfg.outbox.databases if d in connections.settings]
    except (ImproperlyConfigured, TypeError, ValueError):
        return []
    used = cfg.outbox_used or any(_has_rows(d) for d in databases)
    if not used:
        return []
    from ..connections import get_rsmq
    from .registry import RelayRegistry

    try:
        home = get_rsmq(cfg.outbox.connection)
        relays = RelayRegistry(home.client, cfg.namespace).alive(cfg.consumer.registry_ttl)
    except Exception:  # unreachable: django_rsmq.E010 reports it
        return []
    if relays:
        return []
    return [
        Warning(
            "The transactional outbox is used but no relay is running: committed "
            "messages wait in the outbox table until one runs",
            hint="Run manage.py rsmq_relay, or rsmq_consume (its relay thread is on "
            "when a queue has OUTBOX: True)",
            obj=WHERE,
            id="django_rsmq.W031",
        )
    ]
