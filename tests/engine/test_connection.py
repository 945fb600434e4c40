"""Connections: a URL or any redis-py client, decode_responses on or off, RESP2 or RESP3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from django_rsmq.engine import RSMQ, BodyDecodeError, Keys
from django_rsmq.engine.server import RedisServer
from django_rsmq.testing import TestRedis, unique_namespace

from .helpers import next_ms

CLIENTS = {
    "resp2-bytes": {},
    "resp2-decoded": {"decode_responses": True},
    "resp3-bytes": {"protocol": 3},
    "resp3-decoded": {"protocol": 3, "decode_responses": True},
}


@pytest.mark.parametrize("kind", sorted(CLIENTS))
def test_every_operation_with_any_client(test_redis: TestRedis, kind: str) -> None:
    client = test_redis.client(**CLIENTS[kind])
    ns = unique_namespace()
    mq = RSMQ(client, namespace=ns)
    try:
        mq.create_queue("q", vt=5)
        assert mq.list_queues() == ["q"]
        mid = mq.send("q", "héllo")
        assert isinstance(mid, str)
        second = mq.send("q", {"k": [1]})
        mq.send("q", "later", delay=100)
        peeked = mq.peek("q")
        assert [(type(p.id), p.raw, p.state) for p in peeked] == [
            (str, "héllo", "visible"),
            (str, '{"k":[1]}', "visible"),
            (str, "later", "delayed"),
        ]
        msg = mq.receive("q")
        assert msg is not None
        assert (msg.id, msg.body, msg.rc, type(msg.fr)) == (mid, "héllo", 1, int)
        assert msg.receipt == f"q:{mid}:1"
        attrs = mq.get_queue_attributes("q")
        assert (attrs.vt, attrs.maxsize, attrs.msgs, attrs.in_flight, attrs.delayed) == (
            5,
            65536,
            3,
            1,
            1,
        )
        assert isinstance(attrs.oldest_age, float)
        next_ms(client)  # so mid's new score is later than the other's
        assert mq.change_visibility("q", mid, 0) is True
        again = mq.receive("q")  # the other one was sent before mid became visible again
        assert again is not None
        assert (again.id, again.body) == (second, {"k": [1]})
        mq.ack(again.receipt)
        popped = mq.pop("q")
        assert popped is not None
        assert (popped.id, popped.body, popped.rc) == (mid, "héllo", 2)
        assert mq.set_queue_attributes("q", maxsize=-1).maxsize == -1
        assert mq.purge("q") == 1
        # a body that is not UTF-8 never breaks the reply, whatever the client decodes
        bad = mq.send("q", "x")
        test_redis.client().hset(Keys(ns).queue("q").hash, bad, b"\xc3\x28")
        msg = mq.receive("q")
        assert msg is not None
        assert msg.raw == b"\xc3\x28"
        with pytest.raises(BodyDecodeError) as info:
            _ = msg.body
        mq.ack(info.value.receipt)
        assert mq.peek("q") == []
        mq.delete_queue("q")
        assert mq.list_queues() == []
    finally:
        client.close()


def test_url(test_redis: TestRedis, namespace: str) -> None:
    mq = RSMQ(test_redis.url, namespace=namespace)
    try:
        mq.create_queue("q")
        mq.send("q", "x")
        assert mq.get_queue_attributes("q").msgs == 1
        assert mq.namespace == namespace
    finally:
        mq.client.close()


def test_unix_socket_url(tmp_path: Path) -> None:
    from django_rsmq.engine.server import RedisServerNotFound

    try:
        server = RedisServer(tmp_path / "data", unix_socket=tmp_path / "redis.sock")
    except RedisServerNotFound as exc:  # pragma: no cover - the session fixture decides
        pytest.skip(str(exc))
    server.start()
    try:
        mq = RSMQ(server.url, namespace="u")
        assert server.url.startswith("unix://")
        mq.create_queue("q")
        mid = mq.send("q", "x")
        msg = mq.receive("q")
        assert msg is not None
        assert msg.id == mid
        mq.client.close()
    finally:
        server.kill()


def test_hiredis_parser(test_redis: TestRedis, namespace: str) -> None:
    pytest.importorskip("hiredis")
    from redis._parsers import _HiredisParser

    client: Any = test_redis.client(parser_class=_HiredisParser, decode_responses=True)
    mq = RSMQ(client, namespace=namespace)
    try:
        mq.create_queue("q")
        mq.send("q", "x")
        msg = mq.receive("q")
        assert msg is not None
        assert msg.body == "x"
    finally:
        client.close()
