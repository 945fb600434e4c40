from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_rsmq.conf import ConnectionSettings
from django_rsmq.connections import get_rsmq, redis_client, rsmq_for_queue
from django_rsmq.testing import TestRedis


def test_url_connection_is_built_once_per_alias_and_rebuilt_after_override(
    rsmq_on_test_redis: dict[str, object], namespace: str
) -> None:
    r = get_rsmq()
    assert r is get_rsmq("default") is rsmq_for_queue("work")
    assert r.namespace == namespace
    assert r.client.ping()
    with override_settings(RSMQ={**rsmq_on_test_redis, "NAMESPACE": "other"}):
        assert get_rsmq().namespace == "other"
    assert get_rsmq() is not r


def test_unknown_alias_is_a_clear_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="Unknown RSMQ connection alias 'nope'"):
        get_rsmq("nope")


def test_host_port_parameters(test_redis: TestRedis) -> None:
    parts = urlsplit(test_redis.url)
    client = redis_client(
        ConnectionSettings.from_dict("p", {"HOST": parts.hostname, "PORT": parts.port})
    )
    assert client.ping()


@pytest.mark.parametrize(
    "backend", ["django_redis.cache.RedisCache", "django.core.cache.backends.redis.RedisCache"]
)
def test_use_django_cache_shares_the_cache_client(
    test_redis: TestRedis, rsmq_on_test_redis: dict[str, object], backend: str
) -> None:
    caches = {"default": {"BACKEND": backend, "LOCATION": test_redis.url}}
    rsmq = {**rsmq_on_test_redis, "CONNECTIONS": {"default": {"USE_DJANGO_CACHE": "default"}}}
    with override_settings(CACHES=caches, RSMQ=rsmq):
        r = get_rsmq()
        r.create_queue("q")
        assert r.get_queue_attributes("q").vt == 30
        pool = r.client.connection_pool
        kept = len(pool._in_use_connections)  # type: ignore[attr-defined]
        assert kept >= 1  # the engine's fast path keeps a connection of the cache's pool
    # The settings change dropped that RSMQ: its kept connections are back in the
    # cache's pool, and the cache's client is still open.
    assert len(pool._in_use_connections) == kept - 1  # type: ignore[attr-defined]
    assert r.client.ping()


def test_use_django_cache_rejects_a_non_redis_cache() -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches), pytest.raises(ImproperlyConfigured, match="not a Redis"):
        redis_client(ConnectionSettings.from_dict("c", {"USE_DJANGO_CACHE": "default"}))


def test_sentinel_settings_build_a_sentinel_managed_client() -> None:
    from redis.sentinel import SentinelConnectionPool

    client = redis_client(
        ConnectionSettings.from_dict(
            "ha", {"SENTINELS": [("127.0.0.1", 1)], "MASTER_NAME": "mymaster", "DB": 3}
        )
    )
    assert isinstance(client, redis.Redis)
    assert isinstance(client.connection_pool, SentinelConnectionPool)
    assert client.connection_pool.service_name == "mymaster"
