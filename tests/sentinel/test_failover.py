"""Through a planned failover (``SENTINEL FAILOVER``) nothing acknowledged is lost.

The client is the one the settings build (``connections.redis_client``), the engine's
fast path on. Before the fix pooled and kept connections kept writing to the old
master (which stays writable until Sentinel demotes it, ~10 s later, and then throws
those writes away).
"""

from __future__ import annotations

import redis

from django_rsmq.conf import ConnectionSettings
from django_rsmq.connections import redis_client
from django_rsmq.engine import RSMQ
from tests.engine.helpers import wait_for

from .group import SERVICE, SentinelGroup
from .traffic import Traffic


def sentinel_rsmq(group: SentinelGroup, namespace: str) -> RSMQ:
    settings = {
        "SENTINELS": group.addresses,
        "MASTER_NAME": SERVICE,
        "SOCKET_TIMEOUT": 2,
        "SOCKET_CONNECT_TIMEOUT": 1,
    }
    client = redis_client(ConnectionSettings.from_dict("ha", settings))
    return RSMQ(client, namespace=namespace, realtime=True)


def test_planned_failover_loses_no_acknowledged_send(
    sentinel_group: SentinelGroup, namespace: str
) -> None:
    rsmq = sentinel_rsmq(sentinel_group, namespace)
    assert rsmq._fast is not None  # the fast path is on
    rsmq.create_queue("q")
    traffic = Traffic(rsmq, "q")
    traffic.start()
    wait_for(lambda: len(traffic.acked) > 200, timeout=10, what="traffic")
    old = sentinel_group.failover()
    new = sentinel_group.wait_master_not(old)
    # Keep going on the new master while the old one is still writable (it is demoted
    # only ~10 s after the switch).
    mark = len(traffic.acked)
    wait_for(lambda: len(traffic.acked) > mark + 400, timeout=15, what="sends after switch")
    result = traffic.finish(sentinel_group)
    rsmq.close()
    assert result["lost"] == 0, result
    # In flight at the switch: at most a handful (the consumer holds one at a time).
    assert result["duplicated"] <= 5, result
    assert result["outage"] < 5, result
    # The new master really got the traffic after the switch.
    assert redis.Redis(host=new[0], port=new[1]).info("replication")["role"] == "master"
