"""The asyncio front end: :class:`AsyncRSMQ` over ``redis.asyncio``, with the same
operations and semantics as the sync :class:`~django_rsmq.engine.RSMQ`. Lua, key
layout, validation, reply parsing and the long-poll plan are the sync engine's."""

from .queue import AsyncQueue, AsyncRSMQ

__all__ = ["AsyncQueue", "AsyncRSMQ"]
