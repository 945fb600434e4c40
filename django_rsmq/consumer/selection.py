"""Which queues a consumer serves, and how they are grouped into fetchers.

:func:`resolve_queues` turns ``rsmq_consume``'s queue names and ``--exclude`` into the
queues to consume (every declared queue with a handler by default), with a
:class:`~.exitcodes.ConsumerError` that says what to fix. :func:`fetch_groups` connects,
creates missing queues (``AUTO_CREATE``) and groups the queues by connection, visibility
timeout and serializer: one fetcher per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from django.core.exceptions import ImproperlyConfigured

from ..conf import rsmq_settings
from ..connections import get_rsmq
from ..engine.errors import QueueNotFound, RSMQError
from ..engine.server import RedisServerNotFound
from ..handlers import Handler, registry
from ..operations.queues import ensure_queue
from .exitcodes import ConsumerError, ExitCode

__all__ = ["FetchGroups", "fetch_groups", "resolve_queues"]

#: (connection alias, visibility timeout, serializer) -> the queues one fetcher serves
FetchGroups = dict[tuple[str, float, Any], list[str]]


def resolve_queues(requested: Sequence[str], exclude: Sequence[str]) -> list[str]:
    cfg = rsmq_settings()
    handlers = registry.all()
    names = list(requested) or sorted(q for q in cfg.queues if q in handlers)
    unknown = [q for q in exclude if q not in names]
    if unknown:
        raise ConsumerError(
            f"--exclude names queue(s) that would not be consumed anyway: "
            f"{', '.join(unknown)} (consumed: {', '.join(names) or 'none'})",
            ExitCode.CONFIG_ERROR,
        )
    names = [q for q in names if q not in exclude]
    if not names:
        raise ConsumerError(
            "Nothing to consume: no declared queue in RSMQ['QUEUES'] has a handler"
            + (
                " (all excluded)"
                if exclude
                else f" (handlers are found in each installed app's "
                f"{' / '.join(cfg.autodiscover_modules)}.py: is your app in "
                'INSTALLED_APPS and its handlers decorated with @handler("QUEUE")?)'
            ),
            ExitCode.CONFIG_ERROR,
        )
    missing = [q for q in names if q not in handlers]
    if missing:
        raise ConsumerError(
            f"No @handler registered for queue(s) {', '.join(missing)} "
            f"(registered: {', '.join(sorted(handlers)) or 'none'})",
            ExitCode.CONFIG_ERROR,
        )
    return names


def fetch_groups(names: Sequence[str], handlers: dict[str, Handler]) -> FetchGroups:
    """Connect, create missing queues, and group ``names`` for the fetchers; a
    :class:`ConsumerError` (config or connection) when that cannot be done."""
    cfg = rsmq_settings()
    groups: FetchGroups = {}
    try:
        for qname in names:
            q = cfg.queue(qname)
            if q.connection not in cfg.connections:
                raise ConsumerError(
                    f"Queue {qname!r} uses unknown connection {q.connection!r}",
                    ExitCode.CONFIG_ERROR,
                )
            rsmq = get_rsmq(q.connection)
            if q.auto_create:
                ensure_queue(qname, rsmq)
            vt = handlers[qname].visibility_timeout
            if vt is None:
                vt = rsmq.get_queue_attributes(qname).vt
            key = (q.connection, float(vt), q.serializer or cfg.serializer)
            groups.setdefault(key, []).append(qname)
    except QueueNotFound as exc:
        raise ConsumerError(
            f"{exc} (create it with `manage.py rsmq_queues sync` or set AUTO_CREATE)",
            ExitCode.CONFIG_ERROR,
        ) from exc
    except (redis.ConnectionError, redis.TimeoutError, OSError, RedisServerNotFound) as exc:
        raise ConsumerError(f"Cannot reach Redis: {exc}", ExitCode.CONNECTION_ERROR) from exc
    except (RSMQError, ImproperlyConfigured) as exc:
        raise ConsumerError(str(exc), ExitCode.CONFIG_ERROR) from exc
    return groups
