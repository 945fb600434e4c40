"""Durable sends: ``WAIT`` in the send's round trip; unconfirmed -> SendNotConfirmed."""

from __future__ import annotations

import pytest
import redis

from django_rsmq.engine import RSMQ, SendNotConfirmed
from tests.engine.helpers import wait_for

from .group import SentinelGroup
from .test_failover import sentinel_rsmq
from .traffic import Traffic


def test_a_send_no_replica_confirms_raises_with_its_id(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")  # the session server has no replica
    with pytest.raises(SendNotConfirmed) as caught:
        rsmq.send("q", "x", durable=1, durable_timeout=0.05)
    assert (caught.value.wanted, caught.value.confirmed) == (1, 0)
    # Documented: the message may exist (here it does, on the master).
    assert caught.value.message_id is not None
    assert rsmq.receive("q") is not None


def test_bad_durable_values_are_refused(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    with pytest.raises(ValueError, match="durable"):
        rsmq.send("q", "x", durable=-1)
    with pytest.raises(ValueError, match="durable_timeout"):
        rsmq.send("q", "x", durable=1, durable_timeout=0)


def test_durable_send_returns_once_replicas_have_it(
    calm_sentinel_group: SentinelGroup, namespace: str
) -> None:
    r = sentinel_rsmq(calm_sentinel_group, namespace)
    r.create_queue("q")
    mid = r.send("q", "x", durable=2)
    for node in calm_sentinel_group.nodes:  # on every node the moment send() returned
        attrs = RSMQ(redis.Redis(port=node.port), namespace=namespace).get_queue_attributes("q")
        assert attrs.msgs == 1, node.port
    assert r.receive("q").id == mid  # type: ignore[union-attr]
    r.close()


def test_master_sigkill_loses_no_acknowledged_durable_send(
    strict_sentinel_group: SentinelGroup, namespace: str
) -> None:
    """SIGKILL of the master (``min-replicas-to-write 1``), durable sends: whatever
    send() acknowledged is on the master Sentinel promotes."""
    g = strict_sentinel_group
    r = sentinel_rsmq(g, namespace)
    r.create_queue("q")
    traffic = Traffic(r, "q", send_kwargs={"durable": 1, "durable_timeout": 0.5})
    traffic.start()
    wait_for(lambda: len(traffic.acked) > 200, timeout=10, what="traffic")
    old = g.master_address()
    g.node_at(old[1]).kill()
    g.wait_master_not(old, timeout=20)
    mark = len(traffic.acked)
    wait_for(lambda: len(traffic.acked) > mark + 200, timeout=20, what="sends after failover")
    result = traffic.finish(g)
    r.close()
    assert result["lost"] == 0, result
