"""Lost replies through a real TCP proxy (tests/faults/proxy.py): Redis runs the script,
the reply never arrives. Nothing may run twice; replay-safe operations (send, ack,
delete) retry and answer as if the first reply had arrived, the others raise ReplyLost.
Both front ends (``front_kind``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from django_rsmq.engine import RSMQ, Entry, ReplyLost, scripts
from django_rsmq.testing import TestRedis
from tests.engine.fronts import open_front
from tests.engine.helpers import wait_for
from tests.faults.proxy import FaultProxy


@pytest.fixture
def proxy(test_redis: TestRedis) -> Iterator[FaultProxy]:
    port = urlsplit(test_redis.url).port
    assert port is not None
    with FaultProxy(port) as p:
        yield p


@pytest.fixture
def via(proxy: FaultProxy, test_redis: TestRedis, front_kind: str, namespace: str) -> Iterator[Any]:
    """A front end (RSMQ or AsyncRSMQ on a from_url client: no retries) whose traffic goes
    through the proxy; warmed up so every script is in Redis' cache and a connection
    is open (a lost reply then hits the call itself, not a NOSCRIPT or a connect)."""
    parts = urlsplit(test_redis.url)
    url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
    loader = test_redis.client()
    for name in ("send", "receive", "pop", "delete", "nack", "change_visibility"):
        loader.script_load(scripts.get(name).source)
    loader.close()
    with open_front(front_kind, url, namespace=namespace) as mq:
        mq.create_queue("warm")
        mq.send("warm", "w")
        m = mq.receive("warm")
        assert m is not None
        mq.ack(m)
        yield mq


def _drop(proxy: FaultProxy, script: str) -> None:
    proxy.drop_reply_after(scripts.get(script).sha_bytes)


def test_a_send_whose_reply_is_lost_enqueues_one_message(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    _drop(proxy, "send")
    mid = via.send("q", {"n": 1})
    assert proxy.dropped == 1
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.totalsent) == (1, 1)
    assert [m.id for m in rsmq.peek("q")] == [mid]


def test_a_send_many_whose_reply_is_lost_enqueues_each_message_once(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    _drop(proxy, "send")
    outcomes = via.send_many("q", ["a", "b", "c"])
    assert proxy.dropped == 1
    sent = [o.unwrap() for o in outcomes]
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.totalsent) == (3, 3)
    peeked = rsmq.peek("q")
    assert [m.id for m in peeked] == sent  # the returned ids, in FIFO order
    assert [m.body for m in peeked] == ["a", "b", "c"]


def test_a_receive_whose_reply_is_lost_raises_and_the_message_comes_back_after_vt(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    mid = rsmq.send("q", "x")
    _drop(proxy, "receive")
    with pytest.raises(ReplyLost) as lost:
        via.receive("q", vt=0.5)
    assert lost.value.operation == "receive"
    assert proxy.dropped == 1
    # Redis did receive it: hidden for its vt, rc counted (documented), never run twice.
    (peeked,) = rsmq.peek("q")
    assert (peeked.id, peeked.state, peeked.rc) == (mid, "in_flight", 1)
    again = wait_for(lambda: rsmq.receive("q"), timeout=5, what="the message after its vt")
    assert (again.id, again.rc) == (mid, 2)


def test_a_pop_whose_reply_is_lost_raises_and_is_not_run_again(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    rsmq.send_many("q", ["a", "b"])
    _drop(proxy, "pop")
    with pytest.raises(ReplyLost) as lost:
        via.pop("q")
    assert lost.value.operation == "pop"
    # The first message is gone with the lost reply (documented); the second was not
    # popped by a replay.
    assert [m.body for m in rsmq.peek("q")] == ["b"]


@pytest.mark.parametrize("script", ["nack", "change_visibility"])
def test_a_settlement_whose_reply_is_lost_raises(
    via: Any, rsmq: RSMQ, proxy: FaultProxy, script: str
) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    m = via.receive("q")
    assert m is not None
    _drop(proxy, script)
    settle = via.nack if script == "nack" else lambda m: via.change_visibility_by_receipt(m, 60)
    with pytest.raises(ReplyLost) as lost:
        settle(m)
    assert lost.value.operation == script
    (peeked,) = rsmq.peek("q")
    assert peeked.rc == 1  # applied once: nothing ran it a second time


def test_an_ack_whose_reply_is_lost_is_reported_as_acked(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    m = via.receive("q")
    assert m is not None
    _drop(proxy, "delete")
    assert via.ack(m) is None  # not MessageNotFound: the first attempt applied it
    assert proxy.dropped == 1
    assert rsmq.get_queue_attributes("q").msgs == 0


def test_an_ack_many_whose_reply_is_lost_is_reported_as_acked(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    rsmq.send_many("q", ["a", "b"])
    got = via.receive_many("q", 2)
    assert len(got) == 2
    _drop(proxy, "delete")
    outcomes = via.ack_many(got)
    assert [o.ok for o in outcomes] == [True, True]
    assert proxy.dropped == 1
    assert rsmq.get_queue_attributes("q").msgs == 0


def test_a_pipelined_ack_many_of_two_queues_whose_replies_are_lost_is_reported_acked(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    """Two queues: two delete calls in one round trip, both replies dropped."""
    for qname in ("a", "b"):
        rsmq.create_queue(qname)
        rsmq.send(qname, qname)
    got = [via.receive("a"), via.receive("b")]
    _drop(proxy, "delete")
    assert [o.ok for o in via.ack_many(got)] == [True, True]
    assert proxy.dropped == 1
    assert [rsmq.get_queue_attributes(q).msgs for q in ("a", "b")] == [0, 0]


def test_a_pipelined_call_that_cannot_be_replayed_raises(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    for qname in ("a", "b"):
        rsmq.create_queue(qname)
        rsmq.send(qname, qname)
    got = [via.receive("a", vt=60), via.receive("b", vt=60)]
    _drop(proxy, "change_visibility")
    with pytest.raises(ReplyLost) as lost:
        via.change_visibility_by_receipt_many(got, 0)
    assert lost.value.operation == "change_visibility"
    assert proxy.dropped == 1


def test_a_delete_whose_reply_is_lost_reports_the_message_deleted(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    mid = rsmq.send("q", "x")
    _drop(proxy, "delete")
    assert via.delete("q", mid) is True
    assert rsmq.get_queue_attributes("q").msgs == 0


def test_a_connection_cut_before_the_command_is_sent_is_retried(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    rsmq.create_queue("q")
    assert proxy.cut() >= 1  # every open (pooled, kept) connection is dead now
    mid = via.send("q", "x")
    proxy.cut()
    m = via.receive("q")  # not replay-safe, yet never sent on the dead connection
    assert m is not None
    assert (m.id, m.rc) == (mid, 1)
    proxy.cut()
    via.ack(m)
    assert rsmq.get_queue_attributes("q").msgs == 0


def test_a_refused_connection_is_an_outage_not_a_lost_reply(
    via: Any, rsmq: RSMQ, proxy: FaultProxy
) -> None:
    """Nothing reached Redis: a plain ConnectionError (the consumer's outage path), and
    the message was not touched."""
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    proxy.close()  # refuses new connections, cuts the open ones
    with pytest.raises(redis.ConnectionError) as refused:
        via.receive("q")
    assert not isinstance(refused.value, ReplyLost)
    (peeked,) = rsmq.peek("q")
    assert (peeked.state, peeked.rc) == ("visible", 0)


# -- the replay rule itself, without a proxy: the same call run twice ---------------------


def test_a_replayed_send_returns_the_first_id_and_stores_nothing(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    call = rsmq.protocol.send("q", "x", rsmq.serializer)
    first, second = rsmq._run(call), rsmq._run(call)
    assert first == second
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.totalsent) == (1, 1)


@pytest.mark.parametrize("options", [{}, {"max_messages": 3}], ids=["plain", "capped"])
def test_a_replayed_send_many_answers_as_the_first_run(rsmq: RSMQ, options: Any) -> None:
    """A full cap must not turn the replay's answer into QueueFull: the entries are the
    first run's, already counted; dedup ids answer with the same ids too."""
    rsmq.create_queue("q", **options)
    entries = [Entry("a"), Entry("b", dedup_id="d1"), Entry("c")]
    call = rsmq.protocol.send_many("q", entries, rsmq.serializer)
    first = [o.unwrap() for o in rsmq._run(call)]
    second = [o.unwrap() for o in rsmq._run(call)]
    assert first == second
    attrs = rsmq.get_queue_attributes("q")
    assert (attrs.msgs, attrs.totalsent) == (3, 3)
    assert [m.id for m in rsmq.peek("q")] == first


def test_a_replayed_send_of_a_message_consumed_meanwhile_enqueues_it_again(rsmq: RSMQ) -> None:
    """The documented limit (docs/reliability.md): a replay that comes after the first
    copy was received and deleted finds no trace of it."""
    rsmq.create_queue("q")
    call = rsmq.protocol.send("q", "x", rsmq.serializer)
    mid = rsmq._run(call)
    m = rsmq.receive("q")
    assert m is not None
    rsmq.ack(m)
    assert rsmq._run(call) == mid
    assert rsmq.get_queue_attributes("q").msgs == 1


def test_batch_ids_are_made_by_the_client_in_fifo_order(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    call = rsmq.protocol.send_many("q", ["a", "b", "c"], rsmq.serializer)
    made = list(call.args[1::5])
    assert [int(str(m)[:10], 36) for m in made] == [
        int(str(made[0])[:10], 36) + n for n in range(3)
    ]
    assert [o.unwrap() for o in rsmq._run(call)] == made


class _Subclassed(redis.Redis):
    """A client the fast path leaves alone: redis-py's execute_command and its retries."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return super().execute_command(*args, **options)


def test_without_the_fast_path_a_lost_send_reply_still_enqueues_once(
    rsmq: RSMQ, proxy: FaultProxy, namespace: str
) -> None:
    """redis-py's own retry replays the call; the client-made id makes that harmless."""
    rsmq.create_queue("q")
    rsmq.send("q", "warm")  # send.lua in Redis' cache
    client = _Subclassed.from_url(proxy.url, retry=Retry(NoBackoff(), 3))
    mq = RSMQ(client, namespace=namespace)
    try:
        assert mq._fast is None
        _drop(proxy, "send")
        mid = mq.send("q", "x")
        assert proxy.dropped == 1
        assert [m.id for m in rsmq.peek("q")][1:] == [mid]
        assert rsmq.get_queue_attributes("q").totalsent == 2
    finally:
        mq.client.close()


def test_a_retry_policy_that_retries_every_exception_still_does_not_replay(
    rsmq: RSMQ, proxy: FaultProxy, namespace: str
) -> None:
    """The policy retries what did not reach Redis; a lost reply never enters it."""
    rsmq.create_queue("q")
    rsmq.send("q", "x")
    rsmq.client.script_load(scripts.get("receive").source)
    broad = Retry(NoBackoff(), 3, supported_errors=(Exception,))
    mq = RSMQ(redis.Redis.from_url(proxy.url, retry=broad), namespace=namespace)
    try:
        assert mq._fast is not None
        _drop(proxy, "receive")
        with pytest.raises(ReplyLost):
            mq.receive("q", vt=60)
        (peeked,) = rsmq.peek("q")
        assert (peeked.state, peeked.rc) == ("in_flight", 1)
    finally:
        mq.close()
        mq.client.close()


def test_redis_asyncio_with_a_retry_policy_for_every_exception_does_not_replay(
    rsmq: RSMQ, proxy: FaultProxy, namespace: str
) -> None:
    import asyncio

    import redis.asyncio
    from redis.asyncio.retry import Retry as AsyncRetry

    from django_rsmq.engine import AsyncRSMQ

    rsmq.create_queue("q")
    rsmq.send("q", "x")
    rsmq.client.script_load(scripts.get("receive").source)

    async def lose() -> None:
        broad = AsyncRetry(NoBackoff(), 3, supported_errors=(Exception,))
        client = redis.asyncio.Redis.from_url(proxy.url, retry=broad)
        mq = AsyncRSMQ(client, namespace=namespace)
        try:
            _drop(proxy, "receive")
            with pytest.raises(ReplyLost):
                await mq.receive("q", vt=60)
        finally:
            await mq.aclose()
            await client.aclose()

    asyncio.run(lose())
    (peeked,) = rsmq.peek("q")
    assert (peeked.state, peeked.rc) == ("in_flight", 1)
