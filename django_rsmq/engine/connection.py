"""Redis clients for the engine: from a URL or an existing redis-py client."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio
from redis.client import NEVER_DECODE

# NEVER_DECODE: replies come back as bytes even on a decode_responses=True client, so a
# body that is not UTF-8 reaches the parser (-> BodyDecodeError with its id and receipt)
# instead of failing inside redis-py after the script already ran.
RAW: dict[str, Any] = {NEVER_DECODE: []}

__all__ = ["async_client", "sync_client"]


def sync_client(client: redis.Redis | str | None = None, **kwargs: Any) -> redis.Redis:
    """``client`` itself, or a new client for a ``redis://``/``rediss://``/``unix://`` URL.

    The engine decodes replies itself, so any ``decode_responses`` and either protocol
    (RESP2 or RESP3) works.
    """
    if client is None:
        client = "redis://127.0.0.1:6379/0"
    if isinstance(client, str):
        return redis.Redis.from_url(client, **kwargs)
    return client


def async_client(
    client: redis.asyncio.Redis | str | None = None, **kwargs: Any
) -> redis.asyncio.Redis:
    """The asyncio counterpart of :func:`sync_client`."""
    if client is None:
        client = "redis://127.0.0.1:6379/0"
    if isinstance(client, str):
        return redis.asyncio.Redis.from_url(client, **kwargs)
    return client
