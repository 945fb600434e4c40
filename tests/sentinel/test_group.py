"""The fixture itself: a real group that sentinels agree on, and a planned failover."""

from __future__ import annotations

import redis

from .group import SERVICE, SentinelGroup


def test_group_is_whole_and_fails_over(sentinel_group: SentinelGroup) -> None:
    g = sentinel_group
    host, port = g.master_address()
    assert redis.Redis(host=host, port=port).info("replication")["connected_slaves"] == 2
    for s in g.sentinels:
        c = s.client()
        assert len(c.sentinel_sentinels(SERVICE)) == 2
        c.close()
    old = g.failover()
    new = g.wait_master_not(old)
    assert new != old
    assert redis.Redis(host=new[0], port=new[1]).info("replication")["role"] == "master"
