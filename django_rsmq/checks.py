"""System checks for ``settings.RSMQ`` (ids ``django_rsmq.E0xx`` / ``W0xx``).

==========  =====================================================================
id          fires when
==========  =====================================================================
E001        ``settings.RSMQ`` (or a part of it) has the wrong shape
E002        an unknown key (typo) at the top level, in a queue or a connection
E003        a queue name is invalid (1-160 chars of ``A-Za-z0-9_-``)
E004        a value is out of range or of the wrong type
E005        a queue uses a connection alias that is not in CONNECTIONS
E006        a DEAD_LETTER_QUEUE points at the queue itself
E007        a DEAD_LETTER_QUEUE names a queue that is not declared
E008        a connection is invalid (USE_DJANGO_CACHE to a missing / non-Redis cache,
            SENTINELS without MASTER_NAME, more than one way to connect)
E009        a queue's dead-letter queue is on another connection than the queue (its
            own CONNECTION differs, or queues on several connections share it)
W001        a @handler is registered for a queue that is not declared
W002        the embedded Redis is used with DEBUG = False
W003        a queue with a @handler has neither RETRY nor MAX_RECEIVES, so a message
            whose handler keeps failing is retried at once, forever
E010        (deploy) a Redis connection is unreachable
W011        (deploy) Redis ``maxmemory-policy`` can evict queue data
W012        (deploy) Redis persists nothing (no AOF, no RDB snapshots)
E013        a Tasks backend's QUEUES is empty or names an invalid queue
E014        a queue a Tasks backend serves also has a @handler
W015        a queue a Tasks backend serves is not declared in RSMQ['QUEUES']
E016        a Tasks backend has unknown OPTIONS
E017        a Tasks backend is configured but django_rsmq is not in INSTALLED_APPS
W018        a connection is the embedded Redis (the default) and no ``redis-server``
            binary can be found
W019        (deploy) a Sentinel group where acknowledged sends can be lost (fewer
            than 2 replicas, or min-replicas-to-write 0); the message reports the group
W020        (deploy) a queue's DURABLE asks for more replicas than its master has
==========  =====================================================================

E013-E017 come from ``RSMQTaskBackend.check()`` (django_rsmq/tasks/backend.py),
which Django's own Tasks check runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import (
    QUEUE_KEYS,
    ConnectionSettings,
    QueueSettings,
    RSMQSettings,
    dead_letter_sources,
    retry_policy,
    rsmq_settings,
)
from .engine.errors import InvalidName, InvalidValue
from .engine.ratelimit import RateLimit
from .engine.reliability import MAX_IN_FLIGHT_MAX
from .engine.retry import RetryPolicy
from .engine.validation import MAXSIZE_MAX, MAXSIZE_MIN, SECONDS_MAX, check_qname

__all__ = ["check_deploy", "check_embedded_binary", "check_settings", "config_value"]

TAG = "rsmq"
SERVER_TAG = "rsmq_server"  # checks the rsmq_* commands skip: they report it themselves
SAFE_POLICIES = frozenset(
    {"noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}
)
RETENTION_ACTIONS = frozenset({"drop", "dead_letter"})


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _seconds(v: Any, *, whole: bool = False) -> bool:
    ok = _is_number(v) and 0 <= v <= SECONDS_MAX
    return ok and (not whole or float(v) == int(v))


def _queue_values(q: QueueSettings) -> Iterable[str]:
    """Messages for every out-of-range value of one queue."""
    if not _seconds(q.vt, whole=True):
        yield f"VISIBILITY_TIMEOUT must be whole seconds 0..{SECONDS_MAX}, got {q.vt!r}"
    if not _seconds(q.delay, whole=True):
        yield f"DELAY must be whole seconds 0..{SECONDS_MAX}, got {q.delay!r}"
    if not (
        isinstance(q.maxsize, int)
        and not isinstance(q.maxsize, bool)
        and (q.maxsize == -1 or MAXSIZE_MIN <= q.maxsize <= MAXSIZE_MAX)
    ):
        yield f"MAX_SIZE must be {MAXSIZE_MIN}..{MAXSIZE_MAX} or -1, got {q.maxsize!r}"
    for key, low in (("max_receives", 1), ("max_messages", 1), ("failed_cap", 0)):
        v = getattr(q, key)
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= low):
            yield f"{_setting(key)} must be an int >= {low} or None, got {v!r}"
    for key in ("retention", "dedup_window", "failed_ttl"):
        v = getattr(q, key)
        if v is not None and not (_seconds(v) and v > 0):
            yield f"{_setting(key)} must be seconds 1..{SECONDS_MAX} or None, got {v!r}"
    if q.retention_action is not None and q.retention_action not in RETENTION_ACTIONS:
        yield (
            f"RETENTION_ACTION must be one of {sorted(RETENTION_ACTIONS)}, "
            f"got {q.retention_action!r}"
        )
    yield from _retry_values(q.retry)
    if q.rate_limit is not None:
        try:
            RateLimit.parse(q.rate_limit)
        except InvalidValue as exc:
            yield f"RATE_LIMIT: {exc}"
    cap = q.max_in_flight
    if cap is not None and not (
        isinstance(cap, int) and not isinstance(cap, bool) and 1 <= cap <= MAX_IN_FLIGHT_MAX
    ):
        yield f"MAX_IN_FLIGHT must be an int 1..{MAX_IN_FLIGHT_MAX} or None, got {cap!r}"
    if not (isinstance(q.durable, int) and not isinstance(q.durable, bool) and q.durable >= 0):
        yield f"DURABLE must be a number of replicas (int >= 0), got {q.durable!r}"
    t = q.durable_timeout
    if t is not None and not (_is_number(t) and t > 0):
        yield f"DURABLE_TIMEOUT must be seconds > 0 or None, got {t!r}"
    for key in ("realtime", "auto_create"):
        if not isinstance(getattr(q, key), bool):
            yield f"{_setting(key)} must be True or False, got {getattr(q, key)!r}"
    if q.serializer is not None:
        from .engine.serializers import get_serializer

        try:
            get_serializer(q.serializer)
        except InvalidValue as exc:
            yield f"SERIALIZER: {exc}"


def _retry_shape(retry: Any) -> Iterable[str]:
    if isinstance(retry, dict):
        unknown = set(retry) - {"BASE", "FACTOR", "MAX", "JITTER"}
        if unknown:
            yield f"RETRY has unknown keys {sorted(unknown)} (BASE, FACTOR, MAX, JITTER)"
            return
        if "JITTER" in retry and not (_is_number(retry["JITTER"]) and 0 <= retry["JITTER"] <= 1):
            yield f"RETRY['JITTER'] must be a fraction 0..1, got {retry['JITTER']!r}"
        if "FACTOR" in retry and not (_is_number(retry["FACTOR"]) and retry["FACTOR"] >= 1):
            yield f"RETRY['FACTOR'] must be a number >= 1, got {retry['FACTOR']!r}"
        values = [retry[k] for k in ("BASE", "MAX") if k in retry]
        if all(_seconds(v) for v in values) and retry.get("MAX", 300) < retry.get("BASE", 1):
            yield f"RETRY['MAX'] must be >= RETRY['BASE'], got {retry!r}"
    elif isinstance(retry, list | tuple):
        values = list(retry)
        if not values:
            yield "RETRY must not be an empty list"
    else:
        values = [retry]
    if not all(_seconds(v) for v in values):
        yield f"RETRY delays must be seconds 0..{SECONDS_MAX}, got {retry!r}"


def _retry_values(retry: Any) -> Iterable[str]:
    if retry is None or isinstance(retry, RetryPolicy):
        return
    problems = list(_retry_shape(retry))
    if problems:
        yield from problems
        return
    try:
        retry_policy(retry)
    except InvalidValue as exc:
        yield f"RETRY: {exc}"


def _valid_name(name: str) -> bool:
    try:
        check_qname(name)
    except InvalidName:
        return False
    return True


def _setting(field_name: str) -> str:
    return next(k for k, f in QUEUE_KEYS.items() if f == field_name)


def _connection_problems(conn: ConnectionSettings) -> Iterable[str]:
    ways = [
        w
        for w, on in (
            ("URL", conn.url),
            ("USE_DJANGO_CACHE", conn.use_django_cache),
            ("SENTINELS", conn.sentinels),
            ("HOST/UNIX_SOCKET_PATH", conn.host or conn.unix_socket_path),
        )
        if on
    ]
    if len(ways) > 1:
        yield f"give one way to connect, not {' and '.join(ways)}"
    if conn.sentinels and not conn.master_name:
        yield "SENTINELS needs MASTER_NAME"
    if conn.url and not conn.url.startswith(("redis://", "rediss://", "unix://")):
        yield f"URL must start with redis://, rediss:// or unix://, got {conn.url!r}"
    if conn.use_django_cache:
        caches = getattr(settings, "CACHES", {})
        cache = caches.get(conn.use_django_cache)
        if cache is None:
            yield f"USE_DJANGO_CACHE: no cache {conn.use_django_cache!r} in CACHES"
        elif "redis" not in str(cache.get("BACKEND", "")).lower():
            yield (
                f"USE_DJANGO_CACHE: cache {conn.use_django_cache!r} is not a Redis cache "
                f"({cache.get('BACKEND')})"
            )


def _settings_messages(cfg: RSMQSettings) -> Iterable[CheckMessage]:
    for key in cfg.unknown_keys:
        yield Error(f"Unknown key RSMQ[{key!r}]", obj="settings.RSMQ", id="django_rsmq.E002")
    for key in cfg.consumer.unknown_keys:
        yield Error(
            f"Unknown key RSMQ['CONSUMER'][{key!r}]", obj="settings.RSMQ", id="django_rsmq.E002"
        )
    for key in cfg.admin.unknown_keys:
        yield Error(
            f"Unknown key RSMQ['ADMIN'][{key!r}]", obj="settings.RSMQ", id="django_rsmq.E002"
        )
    for key in cfg.history.unknown_keys:
        yield Error(
            f"Unknown key RSMQ['HISTORY'][{key!r}]",
            hint="HISTORY keys: ENABLED, MINUTES, HOURS",
            obj="settings.RSMQ",
            id="django_rsmq.E002",
        )
    for problem in cfg.history.problems():
        yield Error(f"RSMQ['HISTORY']: {problem}", obj="settings.RSMQ", id="django_rsmq.E004")
    for alias, conn in cfg.connections.items():
        where = f"RSMQ['CONNECTIONS'][{alias!r}]"
        for key in conn.unknown_keys:
            yield Error(f"Unknown key {key!r} in {where}", obj=where, id="django_rsmq.E002")
        for problem in _connection_problems(conn):
            yield Error(f"{where}: {problem}", obj=where, id="django_rsmq.E008")
    for name, q in cfg.queues.items():
        where = f"RSMQ['QUEUES'][{name!r}]"
        for key in q.unknown_keys:
            yield Error(
                f"Unknown key {key!r} in {where} (or QUEUE_DEFAULTS)",
                hint=f"Queue keys: {', '.join(sorted(QUEUE_KEYS))}",
                obj=where,
                id="django_rsmq.E002",
            )
        if not _valid_name(name):
            yield Error(
                f"Invalid queue name {name!r}",
                hint="1 to 160 characters from A-Z a-z 0-9 _ -",
                obj=where,
                id="django_rsmq.E003",
            )
        for problem in _queue_values(q):
            yield Error(f"{where}: {problem}", obj=where, id="django_rsmq.E004")
        if q.connection not in cfg.connections:
            yield Error(
                f"{where}: unknown connection alias {q.connection!r}",
                hint=f"Aliases in RSMQ['CONNECTIONS']: {', '.join(sorted(cfg.connections))}",
                obj=where,
                id="django_rsmq.E005",
            )
        dlq = q.dead_letter_queue
        if dlq is not None and dlq == name:
            yield Error(
                f"{where}: DEAD_LETTER_QUEUE points at itself", obj=where, id="django_rsmq.E006"
            )
        elif dlq is not None and dlq not in cfg.queues:
            yield Error(
                f"{where}: DEAD_LETTER_QUEUE {dlq!r} is not a declared queue",
                hint="Declare it in RSMQ['QUEUES'] too",
                obj=where,
                id="django_rsmq.E007",
            )
    yield from _dlq_connection_messages(cfg)


def _dlq_connection_messages(cfg: RSMQSettings) -> Iterable[CheckMessage]:
    """E009: the engine dead-letters on the queue's own server, so a DLQ elsewhere is
    one the commands, the admin and stats would never find the messages in."""
    raw_queues = cfg.raw.get("QUEUES")
    raw_queues = raw_queues if isinstance(raw_queues, dict) else {}
    for dlq, sources in dead_letter_sources(cfg.queues).items():
        home = cfg.queue(dlq).connection
        for name, conn in sources.items():
            if conn == home or conn not in cfg.connections:
                continue  # E005 covers an unknown alias
            where = f"RSMQ['QUEUES'][{name!r}]"
            raw = raw_queues.get(dlq)
            if isinstance(raw, dict) and "CONNECTION" in raw:
                why = f"its CONNECTION is {home!r}"
                hint = (
                    f"Remove CONNECTION from RSMQ['QUEUES'][{dlq!r}] (a dead-letter queue "
                    f"lives on its queue's connection) or set it to {conn!r}"
                )
            else:
                others = sorted(f"{n!r} ({c})" for n, c in sources.items() if c != conn)
                why = f"queues on other connections share it: {', '.join(others)}"
                hint = "Give the queues of each connection a dead-letter queue of their own"
            yield Error(
                f"{where} is on connection {conn!r} but its dead-letter queue {dlq!r} is "
                f"not ({why}): messages are dead-lettered on {conn!r}'s server, where "
                "the commands, the admin and stats would not look for them",
                hint=hint,
                obj=where,
                id="django_rsmq.E009",
            )


@register(TAG)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        cfg = rsmq_settings()
    except (ImproperlyConfigured, TypeError, ValueError) as exc:
        return [Error(str(exc), obj="settings.RSMQ", id="django_rsmq.E001")]
    out = list(_settings_messages(cfg))
    from .handlers import registry

    for qname, h in sorted(registry.all().items()):
        if qname not in cfg.queues:
            if registry.is_default(qname):
                continue  # an integration's handler: its own check reports it (W015)
            out.append(
                Warning(
                    f"@handler {h.name} is registered for queue {qname!r}, which is not "
                    "declared in RSMQ['QUEUES']",
                    hint="Declare the queue so its settings (vt, retries, DLQ) are explicit",
                    obj=h.name,
                    id="django_rsmq.W001",
                )
            )
        elif cfg.queues[qname].retry is None and not cfg.queues[qname].max_receives:
            out.append(
                Warning(
                    f"Queue {qname!r} (handled by {h.name}) has neither RETRY nor "
                    "MAX_RECEIVES: a message whose handler keeps failing is delivered "
                    "again at once, forever",
                    hint="Set RETRY (a back-off) and/or MAX_RECEIVES (then a dead-letter "
                    "queue takes it), for this queue or in QUEUE_DEFAULTS",
                    obj=h.name,
                    id="django_rsmq.W003",
                )
            )
    if not settings.DEBUG and any(c.embedded for c in cfg.connections.values()):
        out.append(
            Warning(
                "RSMQ uses the embedded Redis (no connection configured) with DEBUG = False",
                hint="Configure RSMQ['CONNECTIONS'] for production",
                obj="settings.RSMQ",
                id="django_rsmq.W002",
            )
        )
    return out


@register(TAG, Tags.database, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    import redis

    from .connections import get_rsmq

    try:
        cfg = rsmq_settings()
    except (ImproperlyConfigured, TypeError, ValueError):
        return []  # check_settings reports it
    out: list[CheckMessage] = []
    for alias, conn in sorted(cfg.connections.items()):
        if conn.embedded:
            continue  # W002 covers it; a deploy check must not start a server
        where = f"RSMQ['CONNECTIONS'][{alias!r}]"
        try:
            client = get_rsmq(alias).client
            info = client.config_get("maxmemory-policy")
            policy = str(config_value(info, "maxmemory-policy"))
            persistence = client.info("persistence")
            save = str(config_value(client.config_get("save"), "save"))
        except (redis.RedisError, OSError, ImproperlyConfigured) as exc:
            out.append(
                Error(f"{where}: Redis unreachable: {exc}", obj=where, id="django_rsmq.E010")
            )
            continue
        if policy not in SAFE_POLICIES:
            out.append(
                Warning(
                    f"{where}: maxmemory-policy is {policy!r}: Redis may evict queue data",
                    hint="Use maxmemory-policy noeviction",
                    obj=where,
                    id="django_rsmq.W011",
                )
            )
        if not int(persistence.get("aof_enabled", 0)) and not save.strip():
            out.append(
                Warning(
                    f"{where}: Redis persists nothing (appendonly no, no save points): "
                    "a restart loses every message",
                    hint="Set appendonly yes",
                    obj=where,
                    id="django_rsmq.W012",
                )
            )
    return out


def config_value(reply: Any, key: str) -> Any:
    if isinstance(reply, dict):
        for k, v in reply.items():
            if (k.decode() if isinstance(k, bytes) else k) == key:
                return v.decode() if isinstance(v, bytes) else v
    return ""


@register(SERVER_TAG)
def check_embedded_binary(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W018: a connection is the embedded Redis and no ``redis-server`` can be found (the
    first command that talks to Redis would fail). Looks for the binary, starts nothing.

    Tagged ``rsmq_server``, not ``rsmq``: ``check``, ``runserver`` and ``migrate`` show it,
    the ``rsmq_*`` commands run only the ``rsmq`` checks and say it in their own error.
    """
    from .engine.server import RedisServerNotFound, find_redis_server

    try:
        cfg = rsmq_settings()
    except (ImproperlyConfigured, TypeError, ValueError):
        return []  # check_settings reports it
    embedded = sorted(alias for alias, c in cfg.connections.items() if c.embedded)
    if not embedded:
        return []
    try:
        find_redis_server()
    except RedisServerNotFound as exc:
        return [
            Warning(
                f"RSMQ connection {embedded[0]!r} is the embedded Redis, which needs a "
                "redis-server binary, and none was found",
                hint=str(exc),
                obj="settings.RSMQ",
                id="django_rsmq.W018",
            )
        ]
    return []
