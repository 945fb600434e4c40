"""Connections follow the master: the fast path's kept ones and the long-poll listener's."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis
from redis.sentinel import Sentinel

from django_rsmq.engine import RSMQ, Message, WriteRefused
from tests.engine.helpers import wait_for

from .group import SERVICE, SentinelGroup
from .test_failover import sentinel_rsmq


def _count_on(address: tuple[str, int], namespace: str, queue: str) -> int:
    r = RSMQ(redis.Redis(host=address[0], port=address[1]), namespace=namespace)
    try:
        return int(r.get_queue_attributes(queue).msgs)
    finally:
        r.client.close()


def test_fast_path_reconnects_a_kept_connection_through_sentinel_discovery(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    """redis-py's own Sentinel pool (no following): a kept connection that was closed
    (``pool.disconnect()`` closes in-use ones too) must reconnect via ``connect()``
    (which asks Sentinel), not straight to the address it last had."""
    manager: Any = Sentinel(sentinel_group.addresses, socket_timeout=2)  # type: ignore[no-untyped-call]
    client = manager.master_for(SERVICE)
    rsmq = RSMQ(client, namespace=namespace)
    assert rsmq._fast is not None
    rsmq.create_queue("q")
    rsmq.send("q", "before")  # the fast path keeps this connection
    old = sentinel_group.failover()
    new = sentinel_group.wait_master_not(old)
    # redis-py asks the first sentinel that answers; the failover's leader names the old
    # master until its failover ends.
    wait_for(lambda: manager.discover_master(SERVICE) == new, timeout=10, what="discovery")
    client.connection_pool.disconnect()  # every connection, the kept one included
    rsmq.send("q", "after")
    assert _count_on(new, namespace, "q") == 2  # "before" replicated, "after" sent there
    rsmq.close()
    client.close()


def test_long_poll_waiting_through_the_switch_wakes_for_the_new_master(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    """A long poll that started before the failover and only reads (sends nothing)
    moves its pub/sub connection to the new master and is woken by a send there."""
    rsmq = sentinel_rsmq(sentinel_group, namespace)
    rsmq.create_queue("q")
    got: list[Message | None] = []
    t = threading.Thread(target=lambda: got.append(rsmq.receive("q", wait=15)), daemon=True)
    t.start()
    wait_for(lambda: rsmq._listener is not None and rsmq._listener.subs.needs, timeout=5)
    old = sentinel_group.failover()
    new = sentinel_group.wait_master_not(old)
    wait_for(lambda: rsmq.client.connection_pool.master_watch.address == new, timeout=5)
    # A producer elsewhere, straight on the new master, after the switch.
    producer = RSMQ(redis.Redis(host=new[0], port=new[1]), namespace=namespace, realtime=True)
    sent_at = time.monotonic()
    mid = producer.send("q", "hello")
    t.join(15)
    waited = time.monotonic() - sent_at
    assert len(got) == 1
    assert got[0] is not None
    assert got[0].id == mid
    # Before: the reader stayed on the old master until it handed over (up to 5 s).
    assert waited < 2.5, f"the long poll woke {waited:.1f}s after the send"
    producer.client.close()
    rsmq.close()


def test_noreplicas_is_a_typed_refusal_and_nothing_was_written(
    calm_sentinel_group: SentinelGroup, namespace: str
) -> None:
    rsmq = sentinel_rsmq(calm_sentinel_group, namespace)
    rsmq.create_queue("q")
    host, port = calm_sentinel_group.master_address()
    master = redis.Redis(host=host, port=port)
    master.config_set("min-replicas-max-lag", 10)
    master.config_set("min-replicas-to-write", 3)  # 2 replicas: every write is refused
    try:
        with pytest.raises(WriteRefused) as caught:
            rsmq.send("q", "x")  # refused, asked Sentinel again, retried once, refused
        assert caught.value.reason == "NOREPLICAS"
    finally:
        master.config_set("min-replicas-to-write", 0)
    assert _count_on((host, port), namespace, "q") == 0  # the send never ran
    assert rsmq.send("q", "y")  # and the client works again
    assert _count_on((host, port), namespace, "q") == 1
    rsmq.close()


def test_follows_through_the_sentinels_left_when_one_is_gone(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    """The sentinel the client listened to first is stopped; the failover is run by
    another: its events (and the others' discovery) still move the client."""
    rsmq = sentinel_rsmq(sentinel_group, namespace)
    rsmq.create_queue("q")
    rsmq.send("q", "before")  # following has started
    sentinel_group.sentinels[0].stop()
    old = sentinel_group.failover(via=2)
    new = sentinel_group.wait_master_not(old)
    watch = rsmq.client.connection_pool.master_watch
    wait_for(lambda: watch.address == new, timeout=5, what="the watch on the new master")
    rsmq.send("q", "after")
    assert _count_on(new, namespace, "q") == 2
    rsmq.close()


def test_periodic_discovery_catches_a_switch_whose_events_were_missed(
    sentinel_group: SentinelGroup, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rsmq = sentinel_rsmq(sentinel_group, namespace)
    rsmq.create_queue("q")
    rsmq.send("q", "before")
    watch = rsmq.client.connection_pool.master_watch
    monkeypatch.setattr(watch, "event", lambda channel, data: None)  # every event lost
    old = sentinel_group.failover()
    new = sentinel_group.wait_master_not(old)
    # The safety net asks the sentinels every second.
    wait_for(lambda: watch.address == new, timeout=3, what="discovery of the new master")
    rsmq.send("q", "after")
    assert _count_on(new, namespace, "q") == 2
    rsmq.close()
