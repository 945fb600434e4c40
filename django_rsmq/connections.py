"""Connection aliases → engine objects.

``get_rsmq(alias)`` returns the :class:`~django_rsmq.engine.RSMQ` of a connection alias
(one per alias and process, thread-safe, rebuilt after ``override_settings``);
``rsmq_for_queue(name)`` the one a declared queue lives on. How each kind of
connection setting becomes a redis-py client is in :func:`redis_client`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import redis
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from .conf import SOURCE_SETTINGS, ConnectionSettings, RSMQSettings, rsmq_settings
from .engine import RSMQ
from .engine.embedded import ensure_server

__all__ = ["get_rsmq", "redis_client", "reset", "rsmq_for_queue"]

_lock = threading.Lock()
_rsmqs: dict[str, RSMQ] = {}
_shared: set[str] = set()  # aliases whose client belongs to Django's cache framework


def _client_kwargs(conn: ConnectionSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if conn.socket_timeout is not None:
        kwargs["socket_timeout"] = conn.socket_timeout
    if conn.socket_connect_timeout is not None:
        kwargs["socket_connect_timeout"] = conn.socket_connect_timeout
    kwargs.update(conn.pool_kwargs)
    kwargs.update(conn.client_kwargs)
    return kwargs


def _django_cache_client(alias: str) -> redis.Redis:
    from django.core.cache import caches

    try:
        cache = caches[alias]
    except Exception as exc:
        raise ImproperlyConfigured(f"USE_DJANGO_CACHE: no cache {alias!r} in CACHES") from exc
    try:  # django-redis
        from django_redis import get_redis_connection

        client: redis.Redis = get_redis_connection(alias)
        return client
    except (ImportError, NotImplementedError, AttributeError):
        pass
    inner = getattr(cache, "_cache", None)  # Django's built-in RedisCache
    if inner is not None and hasattr(inner, "get_client"):
        builtin: redis.Redis = inner.get_client(write=True)
        return builtin
    raise ImproperlyConfigured(
        f"USE_DJANGO_CACHE: cache {alias!r} is not a Redis cache "
        "(use django-redis or django.core.cache.backends.redis.RedisCache)"
    )


def redis_client(conn: ConnectionSettings) -> redis.Redis:
    """A redis-py client for one connection setting (starting the embedded server if
    that is what it names)."""
    kwargs = _client_kwargs(conn)
    kind = conn.kind
    if kind == "url":
        assert conn.url
        return redis.Redis.from_url(conn.url, **kwargs)
    if kind == "django_cache":
        assert conn.use_django_cache
        return _django_cache_client(conn.use_django_cache)
    if kind == "sentinel":
        from .engine.sentinel import sentinel_master

        if not conn.master_name:
            raise ImproperlyConfigured(f"Connection {conn.alias!r}: SENTINELS needs MASTER_NAME")
        # A master pool that follows failovers (+switch-master, periodic discovery, a
        # generation counter checked whenever a connection is used): engine/sentinel.py.
        return sentinel_master(
            conn.sentinels or [],
            conn.master_name,
            sentinel_kwargs=conn.sentinel_kwargs or None,
            master_kwargs={
                "db": conn.db,
                "ssl": conn.ssl,
                "username": conn.username,
                "password": conn.password,
            },
            **kwargs,
        )
    if kind == "params":
        return redis.Redis(
            host=conn.host or "localhost",
            port=conn.port,
            db=conn.db,
            username=conn.username,
            password=conn.password,
            ssl=conn.ssl,
            unix_socket_path=conn.unix_socket_path,
            **kwargs,
        )
    assert conn.data_dir
    server = ensure_server(conn.data_dir)
    return redis.Redis.from_url(server.url, **kwargs)


def _build(alias: str, cfg: RSMQSettings) -> RSMQ:
    try:
        conn = cfg.connections[alias]
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown RSMQ connection alias {alias!r}; RSMQ['CONNECTIONS'] has "
            f"{', '.join(sorted(cfg.connections)) or 'none'}"
        ) from None
    realtime = sorted(
        name for name, q in cfg.queues.items() if q.realtime is True and q.connection == alias
    )
    return RSMQ(
        redis_client(conn),
        namespace=cfg.namespace,
        realtime=realtime,
        serializer=cfg.serializer,
        poll_interval=cfg.consumer.poll_interval,
    )


def get_rsmq(alias: str = "default") -> RSMQ:
    """The engine object for a connection alias (built once per process)."""
    found = _rsmqs.get(alias)
    if found is not None:
        return found
    with _lock:
        found = _rsmqs.get(alias)
        if found is None:
            cfg = rsmq_settings()
            found = _rsmqs[alias] = _build(alias, cfg)
            conn = cfg.connections[alias]
            if conn.kind == "django_cache":
                _shared.add(alias)
        return found


def rsmq_for_queue(queue: str) -> RSMQ:
    """The engine object of the connection ``queue`` is declared on."""
    return get_rsmq(rsmq_settings().queue(queue).connection)


def reset() -> None:
    """Drop every engine object (after a settings change); closes their clients."""
    with _lock:
        old = [(r, alias not in _shared) for alias, r in _rsmqs.items()]
        _rsmqs.clear()
        _shared.clear()
    for r, own_client in old:
        with contextlib.suppress(Exception):
            r.close()  # its pub/sub connection, and the connections its fast path keeps
        if own_client:  # a client shared with Django's cache stays open
            with contextlib.suppress(Exception):
                r.client.close()
            watch = getattr(r.client.connection_pool, "master_watch", None)
            if watch is not None:  # a Sentinel connection: stop following its master
                watch.stop()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    # conf forgets the parsed settings on the same signal (it was connected first:
    # this module imports conf); the engine objects built from them go here.
    if setting in SOURCE_SETTINGS:
        reset()
