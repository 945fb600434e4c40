"""Interop with the real PyRSMQ package (``pip install pyrsmq``, imported as ``rsmq``)
on the same Redis and namespace: each side reads and changes what the other wrote."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from django_rsmq.engine import RSMQ, MessageNotFound, StaleReceipt
from django_rsmq.testing import TestRedis

from ..engine.helpers import ID_RE, next_ms, redis_ms, redis_us, wait_for

pyrsmq = pytest.importorskip("rsmq", reason="the pyrsmq package is a test dependency")
from rsmq.cmd.exceptions import NoMessageInQueue  # noqa: E402
from rsmq.cmd.utils import baseXencode  # noqa: E402


@pytest.fixture
def py_client(test_redis: TestRedis) -> Iterator[redis.Redis]:
    client = test_redis.client(decode_responses=True)  # PyRSMQ's own default
    yield client
    client.close()


@pytest.fixture
def theirs(py_client: redis.Redis, namespace: str) -> Any:
    """A PyRSMQ instance on the test server and namespace."""
    return pyrsmq.RedisSMQ(client=py_client, ns=namespace)


@pytest.fixture
def ours(rsmq: RSMQ) -> RSMQ:
    return rsmq


def py_receive(theirs: Any, qname: str, **kwargs: Any) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = theirs.receiveMessage(qname=qname, **kwargs).execute()
    except NoMessageInQueue:
        return None
    return result


def test_pyrsmq_client_talks_to_the_test_server(test_redis: TestRedis, namespace: str) -> None:
    """The documented constructor (host/port/ns) reaches the same queues."""
    if test_redis.server is None:
        pytest.skip("external RSMQ_TEST_REDIS_URL: host/port not known")
    theirs = pyrsmq.RedisSMQ(host="127.0.0.1", port=test_redis.server.port, ns=namespace)
    ours = RSMQ(test_redis.url, namespace=namespace)
    try:
        assert theirs.createQueue(qname="hp").execute() is True
        assert ours.list_queues() == ["hp"]
    finally:
        theirs.client.close()
        ours.client.close()


def test_they_create_and_send_we_receive_and_delete(ours: RSMQ, theirs: Any) -> None:
    assert theirs.createQueue(qname="jobs").execute() is True
    assert "jobs" in ours.list_queues()
    attrs = ours.get_queue_attributes("jobs")
    assert (attrs.vt, attrs.delay, attrs.maxsize) == (30, 0, 65565)  # PyRSMQ's default
    mid = theirs.sendMessage(qname="jobs", message="hello").execute()
    assert ID_RE.fullmatch(mid)
    msg = ours.receive("jobs")
    assert msg is not None
    assert (msg.id, msg.body, msg.rc) == (mid, "hello", 1)
    ours.ack(msg)
    py_attrs = theirs.getQueueAttributes(qname="jobs").execute()
    assert (py_attrs["msgs"], py_attrs["totalsent"], py_attrs["totalrecv"]) == (0, 1, 1)
    # and bare-id delete of a message they sent
    mid = theirs.sendMessage(qname="jobs", message="bye").execute()
    assert ours.delete("jobs", mid) is True
    with pytest.raises(NoMessageInQueue):
        theirs.receiveMessage(qname="jobs").execute()


def test_we_send_with_a_delay_they_receive_only_after_it(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("later")
    mid = ours.send("later", "soon", delay=0.3)
    sent = int(mid[:10], 36) // 1000
    assert py_receive(theirs, "later") is None
    got = wait_for(lambda: py_receive(theirs, "later", vt=5), timeout=3, what="PyRSMQ receive")
    assert (got["id"], got["message"], got["rc"]) == (mid, "soon", 1)
    assert got["ts"] >= sent + 300  # its ts is the first-receive time, Redis ms


def test_they_send_with_a_delay_we_receive_only_after_it(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("later")
    mid = theirs.sendMessage(qname="later", message="soon", delay=0.3).execute()
    sent = int(mid[:10], 36) // 1000
    assert ours.receive("later") is None
    msg = wait_for(lambda: ours.receive("later"), timeout=3)
    assert msg.id == mid
    assert msg.fr >= sent + 300


def test_change_visibility_both_ways(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("cv")
    mid = ours.send("cv", "x")
    first = ours.receive("cv")
    assert first is not None
    assert py_receive(theirs, "cv") is None
    # they make our in-flight message visible again
    assert theirs.changeMessageVisibility(qname="cv", id=mid, vt=0).execute() is True
    got = py_receive(theirs, "cv", vt=30)
    assert got is not None
    assert (got["id"], got["rc"], got["ts"]) == (mid, 2, first.fr)
    with pytest.raises(StaleReceipt):  # our first delivery's receipt is fenced off
        ours.ack(first)
    # we make their in-flight message visible again
    assert ours.change_visibility("cv", mid, 0) is True
    msg = ours.receive("cv")
    assert msg is not None
    assert (msg.id, msg.rc, msg.fr) == (mid, 3, first.fr)
    # they hide it (vt in the future), we see nothing; a missing id is an error for them
    assert theirs.changeMessageVisibility(qname="cv", id=mid, vt=100).execute() is True
    assert ours.receive("cv") is None
    with pytest.raises(NoMessageInQueue):
        theirs.changeMessageVisibility(qname="cv", id="x" * 32, vt=1).execute()
    assert ours.change_visibility("cv", "x" * 32, 1) is False
    ours.ack(msg)  # still our current delivery (rc 3)


def test_their_delivery_expires_and_we_get_it_again(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("exp")
    mid = theirs.sendMessage(qname="exp", message="x").execute()
    got = py_receive(theirs, "exp", vt=0.1)
    assert got is not None
    assert (got["id"], got["rc"]) == (mid, 1)
    msg = wait_for(lambda: ours.receive("exp"), timeout=3, what="redelivery")
    assert (msg.id, msg.rc, msg.fr) == (mid, 2, got["ts"])  # their first-receive time
    ours.ack(msg)
    assert ours.get_queue_attributes("exp").msgs == 0


def test_counters_and_attributes_agree(ours: RSMQ, theirs: Any, raw_client: redis.Redis) -> None:
    ours.create_queue("c", vt=40, delay=0, maxsize=2048)
    theirs.sendMessage(qname="c", message="t1").execute()
    ours.send("c", "o1")
    ours.send("c", "o2", delay=100)
    theirs.sendMessage(qname="c", message="t2", delay=100).execute()
    ours.receive("c")
    py_receive(theirs, "c")
    theirs.sendMessage(qname="c", message="t3").execute()
    theirs.popMessage(qname="c").execute()
    next_ms(raw_client)  # no score equal to "now" (PyRSMQ counts hidden from now inclusive)
    mine = ours.get_queue_attributes("c")
    py = theirs.getQueueAttributes(qname="c").execute()
    for name in ("vt", "delay", "maxsize", "totalrecv", "totalsent", "created", "modified", "msgs"):
        assert getattr(mine, name) == py[name], name
    assert (mine.totalsent, mine.totalrecv, mine.msgs) == (5, 3, 4)
    assert mine.in_flight + mine.delayed == py["hiddenmsgs"] == 4
    # attribute changes either way are seen by the other
    theirs.setQueueAttributes(qname="c", vt=12, delay=3, maxsize=4096).execute()
    mine = ours.get_queue_attributes("c")
    assert (mine.vt, mine.delay, mine.maxsize) == (12, 3, 4096)
    ours.set_queue_attributes("c", vt=9, delay=0, maxsize=-1)
    py = theirs.getQueueAttributes(qname="c").execute()
    assert (py["vt"], py["delay"], py["maxsize"]) == (9.0, 0.0, -1)
    assert py["modified"] == ours.get_queue_attributes("c").modified


def test_fractional_vt_written_by_them_is_honoured(
    ours: RSMQ, theirs: Any, raw_client: redis.Redis
) -> None:
    theirs.createQueue(qname="f").execute()
    theirs.setQueueAttributes(qname="f", vt=1.5).execute()
    assert ours.get_queue_attributes("f").vt == 1.5
    mid = ours.send("f", "x")
    msg = ours.receive("f")
    assert msg is not None
    score = raw_client.zscore(f"{ours.namespace}:f", mid)
    assert score == msg.fr + 1500


def test_queues_are_shared_both_ways(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("mine", vt=5, delay=1, maxsize=1024)
    theirs.createQueue(qname="theirs", vt=6, delay=2).execute()
    assert sorted(theirs.listQueues().execute()) == ["mine", "theirs"]
    assert ours.list_queues() == ["mine", "theirs"]
    py = theirs.getQueueAttributes(qname="mine").execute()
    assert (py["vt"], py["delay"], py["maxsize"]) == (5.0, 1.0, 1024)
    mine = ours.get_queue_attributes("theirs")
    assert (mine.vt, mine.delay, mine.maxsize) == (6, 2, 65565)
    # their queue's default delay applies to our sends, ours to theirs
    mid = ours.send("theirs", "x")
    assert ours.peek_message("theirs", mid).state == "delayed"
    with pytest.raises(pyrsmq.cmd.exceptions.QueueAlreadyExists):
        theirs.createQueue(qname="mine").execute()
    assert theirs.deleteQueue(qname="mine").execute() is True
    ours.delete_queue("theirs")
    assert ours.list_queues() == []
    assert theirs.listQueues().execute() == set()


def test_messages_cross_both_ways(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("x")
    # our dict goes out as JSON; PyRSMQ hands the string over as is
    ours.send("x", {"a": 1})
    got = py_receive(theirs, "x")
    assert got is not None
    assert json.loads(got["message"]) == {"a": 1}
    assert theirs.deleteMessage(qname="x", id=got["id"]).execute() is True
    # their dict is JSON too: our default serializer decodes it
    theirs.sendMessage(qname="x", message={"b": [1, 2]}).execute()
    msg = ours.receive("x")
    assert msg is not None
    assert msg.body == {"b": [1, 2]}
    ours.ack(msg)
    # pop both ways
    mid = ours.send("x", "p1")
    popped = theirs.popMessage(qname="x").execute()
    assert (popped["id"], popped["message"], popped["rc"]) == (mid, "p1", 1)
    mid = theirs.sendMessage(qname="x", message="p2").execute()
    ours_pop = ours.pop("x")
    assert ours_pop is not None
    assert (ours_pop.id, ours_pop.body) == (mid, "p2")
    # unicode survives both ways
    mid = ours.send("x", "日本語 é 😀")
    got = py_receive(theirs, "x")
    assert got is not None
    assert got["message"] == "日本語 é 😀"
    theirs.sendMessage(qname="x", message="ünïcode").execute()
    msg = ours.receive("x")
    assert msg is not None
    assert msg.body == "ünïcode"


def test_their_deleted_message_is_not_found_by_our_receipt(ours: RSMQ, theirs: Any) -> None:
    ours.create_queue("d")
    ours.send("d", "x")
    msg = ours.receive("d", vt=0)
    assert msg is not None
    got = py_receive(theirs, "d")
    assert got is not None
    assert got["rc"] == 2
    # PyRSMQ reports True only when rc and fr existed too (HDEL == 3)
    assert theirs.deleteMessage(qname="d", id=got["id"]).execute() is True
    with pytest.raises(MessageNotFound):
        ours.ack(msg)


def test_message_ids_parse_as_sent_time_in_both(
    ours: RSMQ, theirs: Any, raw_client: redis.Redis
) -> None:
    ours.create_queue("ids")
    before = redis_us(raw_client)
    mine = ours.send("ids", "ours")
    after = redis_us(raw_client)
    # our id's time part is what PyRSMQ's own encoder makes of the Redis µs
    assert baseXencode(int(mine[:10], 36)) == mine[:10]
    assert before <= int(mine[:10], 36) <= after
    before_ms = redis_ms(raw_client)
    their_id = theirs.sendMessage(qname="ids", message="theirs").execute()
    after_ms = redis_ms(raw_client)
    assert ID_RE.fullmatch(their_id)
    ours.receive("ids")
    msg = ours.receive("ids")
    assert msg is not None
    assert msg.id == their_id
    assert before_ms <= msg.sent <= after_ms + 1  # Node's parseInt(id[:10], 36) / 1000
    assert mine < their_id  # one clock, one ordering


def test_qname_limits_differ(ours: RSMQ, theirs: Any) -> None:
    """Node allows 160 characters, PyRSMQ 64: a 65-character queue is ours only."""
    long_name = "q" * 65
    ours.create_queue(long_name)
    assert theirs.sendMessage(qname=long_name, message="x").execute() is False  # refused
    assert theirs.createQueue(qname="q" * 64).execute() is True
    ours.send("q" * 64, "ok")


def test_empty_namespace_differs(test_redis: TestRedis, py_client: redis.Redis) -> None:
    """ns="": Node and we prefix ":", PyRSMQ nothing, so the queues are not shared."""
    from django_rsmq.testing import unique_namespace

    qname = unique_namespace("emptyns")
    ours = RSMQ(test_redis.client(), namespace="")
    theirs = pyrsmq.RedisSMQ(client=py_client, ns="")
    try:
        ours.create_queue(qname)
        with pytest.raises(pyrsmq.cmd.exceptions.QueueDoesNotExist):
            theirs.sendMessage(qname=qname, message="x").execute()
        assert py_client.exists(f":{qname}:Q")
        assert not py_client.exists(f"{qname}:Q")
    finally:
        ours.delete_queue(qname)
        ours.client.close()
