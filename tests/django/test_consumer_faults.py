"""Consumer threads under real faults, in-process: a queue deleted under the keeper, OOM,
a handler raising SystemExit, a thread that dies, a signal arriving while a lock is held,
Redis calls that hang; and the registry/throughput clocks (Redis TIME, not the host's)."""

from __future__ import annotations

import logging
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.test import override_settings

from django_rsmq import send
from django_rsmq.connections import get_rsmq
from django_rsmq.consumer import Consumer
from django_rsmq.consumer import heartbeat as heartbeat_mod
from django_rsmq.consumer import presence as presence_mod
from django_rsmq.consumer.heartbeat import VisibilityKeeper
from django_rsmq.consumer.presence import Presence
from django_rsmq.engine import RSMQ, Message
from django_rsmq.engine import registry as registry_mod
from django_rsmq.engine import throughput as throughput_mod
from django_rsmq.engine.keys import Keys
from django_rsmq.engine.registry import ConsumerRegistry
from django_rsmq.engine.throughput import sample_rates
from django_rsmq.handlers import registry
from django_rsmq.testing import TestRedis
from tests.engine.helpers import wait_for
from tests.settings import rsmq_setting

LOG = "django_rsmq.consumer"


def hidden_until_ms(rsmq: RSMQ, message: Message) -> float:
    """The message's visibility time (its score in the queue's sorted set)."""
    score = rsmq.client.zscore(rsmq.protocol.keys.queue(message.queue).zset, message.id)
    assert score is not None
    return float(score)


def received(rsmq: RSMQ, qname: str, vt: float = 1.0) -> Message:
    if qname not in rsmq.list_queues():
        rsmq.create_queue(qname)
    rsmq.send(qname, "x")
    message = rsmq.receive(qname, vt=vt)
    assert message is not None
    return message


@pytest.fixture
def keeper() -> Iterator[VisibilityKeeper]:
    k = VisibilityKeeper()
    k.start()
    yield k
    k.stop()


def one_line_logs(caplog: pytest.LogCaptureFixture, needle: str) -> list[logging.LogRecord]:
    """Records whose message contains ``needle``; none of them carries a traceback."""
    found = [r for r in caplog.records if needle in r.getMessage()]
    assert all(r.exc_info is None for r in found), [r.getMessage() for r in found]
    return found


# -- the visibility keeper survives every error ------------------------------------------


def test_keeper_survives_a_queue_deleted_under_it_and_keeps_extending_the_others(
    keeper: VisibilityKeeper, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOG)
    r = get_rsmq()
    r.create_queue("doomed")
    doomed, kept = received(r, "doomed"), received(r, "work")
    first = hidden_until_ms(r, kept)
    now = time.monotonic()
    keeper.track(r, doomed, 1.0, now)
    keeper.track(r, kept, 1.0, now)
    r.delete_queue("doomed")
    # Extended twice (every half vt) after the deleted queue's extension failed.
    wait_for(lambda: hidden_until_ms(r, kept) >= first + 900, timeout=5, what="2 extensions")
    assert keeper.is_alive()
    assert r.receive("work") is None  # still hidden, not delivered twice
    (line, *again) = one_line_logs(caplog, "QueueNotFound")
    assert line.levelno == logging.WARNING
    assert "doomed" in line.getMessage()  # the error's text, not only its type
    assert all(r.levelno == logging.DEBUG for r in again)  # once per kind
    keeper.untrack(doomed)
    keeper.untrack(kept)


def test_keeper_and_presence_survive_oom_and_recover(
    own_redis: TestRedis, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOG)
    with override_settings(RSMQ=rsmq_setting(own_redis.url, namespace)):
        r = get_rsmq()
        r.create_queue("work")
        message = received(r, "work")
        admin = own_redis.client()
        presence = Presence("oom-1", [r], ["work"], interval=0.1, ttl=5, status=dict)
        keeper = VisibilityKeeper()
        keeper.start()
        try:
            admin.config_set("maxmemory-policy", "noeviction")
            admin.config_set("maxmemory", 1)
            first = hidden_until_ms(r, message)
            keeper.track(r, message, 1.0, time.monotonic() - 0.5)  # due now
            wait_for(
                lambda: one_line_logs(caplog, "maxmemory") or not keeper.is_alive(),
                what="the OOM extension failure",
            )
            assert keeper.is_alive()
            presence.beat()  # must not raise either
            oom = one_line_logs(caplog, "maxmemory")
            assert oom
            assert all("maxmemory" in rec.getMessage() for rec in oom)
            admin.config_set("maxmemory", 0)
            wait_for(lambda: hidden_until_ms(r, message) > first, what="extension after OOM")
            presence.beat()
            assert [c.name for c in ConsumerRegistry(r.client, r.namespace).list()] == ["oom-1"]
        finally:
            admin.config_set("maxmemory", 0)
            keeper.stop()
            admin.close()


def test_shutdown_releases_every_prefetched_message_even_when_one_release_fails() -> None:
    consumer = Consumer(["work", "flaky"], verbosity=0)
    consumer.setup()
    r = get_rsmq()
    first = received(r, "flaky", vt=30)
    second = received(r, "work", vt=30)
    consumer._deliver(r, first, time.monotonic())
    consumer._deliver(r, second, time.monotonic())
    r.delete_queue("flaky")  # releasing `first` raises QueueNotFound
    assert consumer._shutdown("test") == 0
    again = r.receive("work")
    assert again is not None
    assert again.id == second.id


# -- no lock across a Redis call ---------------------------------------------------------


class Gate:
    """Holds a real Redis call at its start until released (a call that hangs)."""

    def __init__(self, call: Callable[..., Any]) -> None:
        self.call = call
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self.release.wait(5)
        return self.call(*args, **kwargs)


def test_keeper_holds_no_lock_while_an_extension_call_hangs(keeper: VisibilityKeeper) -> None:
    real = get_rsmq()
    slow = RSMQ(real.client, namespace=real.namespace)
    gate = Gate(slow.change_visibility_by_receipt_many)
    slow.change_visibility_by_receipt_many = gate  # type: ignore[method-assign]
    stuck, other = received(real, "work"), received(real, "work")
    keeper.track(slow, stuck, 1.0, time.monotonic() - 0.5)  # due now
    assert gate.entered.wait(3)
    try:
        started = time.monotonic()
        keeper.track(real, other, 60.0, time.monotonic())
        assert keeper.held() == 2
        keeper.untrack(other)  # not part of the hanging call: returns at once
        assert time.monotonic() - started < 0.5
        # The message in the call is let go only once the call returned, so that an
        # extension never lands after the worker's ack or fail.
        untracked = threading.Event()
        t = threading.Thread(target=lambda: (keeper.untrack(stuck), untracked.set()))
        t.start()
        assert not untracked.wait(0.2)
    finally:
        gate.release.set()
    assert untracked.wait(3)
    assert keeper.held() == 0


def test_request_stop_takes_no_lock_so_a_signal_cannot_deadlock() -> None:
    # A signal handler runs in the main thread between two bytecodes, possibly while
    # that thread holds one of the consumer's locks (Event.wait, a Condition): the
    # handler must not try to take them.
    consumer = Consumer(["work"], verbosity=0)
    done = threading.Event()
    locks = [
        consumer._stop._cond,  # type: ignore[attr-defined]
        consumer._settled,
        consumer._count_lock,
        consumer._write_lock,
    ]
    for lock in locks:
        lock.acquire()
    try:
        t = threading.Thread(target=lambda: (consumer.request_stop(), done.set()), daemon=True)
        t.start()
        assert done.wait(2), "request_stop() blocked on a lock"
    finally:
        for lock in locks:
            lock.release()
    assert consumer._should_stop() == "signal"
    consumer.request_stop()
    assert consumer._cold()
    consumer.waker.close()


# -- a handler's BaseException, a thread that dies -----------------------------------------


def run_in_thread(consumer: Consumer, timeout: float = 15.0) -> int:
    box: list[int] = []
    t = threading.Thread(target=lambda: box.append(consumer.run()), daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        consumer.request_stop()
        consumer.request_stop()
        t.join(5)
        raise AssertionError(f"the consumer did not stop by itself within {timeout}s")
    return box[0]


@pytest.fixture
def swap_handler() -> Iterator[Callable[[str, Callable[[Message], Any]], None]]:
    from tests.testapp import handlers

    swapped: list[str] = []

    def swap(qname: str, func: Callable[[Message], Any]) -> None:
        registry.unregister(qname)
        registry.register(qname, func)
        swapped.append(qname)

    yield swap
    for qname in swapped:
        registry.unregister(qname)
        registry.register(qname, getattr(handlers, qname).func)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_handler_raising_system_exit_fails_its_message_and_stops_the_consumer(
    kind: str, swap_handler: Callable[[str, Callable[[Message], Any]], None]
) -> None:
    qname = "work" if kind == "sync" else "awork"

    def sync_exit(message: Message) -> None:
        raise SystemExit(7)

    async def async_exit(message: Message) -> None:
        raise SystemExit(7)

    swap_handler(qname, sync_exit if kind == "sync" else async_exit)
    mid = send(qname, "bye")
    consumer = Consumer([qname], verbosity=0)
    assert run_in_thread(consumer) == 5  # ExitCode.HANDLER_EXIT
    assert consumer.counters.failed_count == 1
    (record,) = get_rsmq().failed(qname).items
    assert (record.message_id, record.exc_type) == (mid, "SystemExit")
    assert get_rsmq().get_queue_attributes(qname).msgs == 1  # retried later, not lost


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_thread_that_dies_anyway_stops_the_consumer_with_exit_code_4(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Fatal(BaseException):
        pass

    def die(self: VisibilityKeeper, group: Any) -> None:
        raise Fatal("keeper bug")

    monkeypatch.setattr(heartbeat_mod.VisibilityKeeper, "_extend", die)
    mid = send("work", {"sleep": 1.5})  # vt 1: the keeper extends it after 0.5 s
    # No prefetch: with the keeper dead the message is visible again after 1 s, and a
    # fetcher polling for a prefetch slot could receive it itself (its ack then stale).
    consumer = Consumer(["work"], verbosity=0, prefetch=0)
    assert run_in_thread(consumer) == 4  # ExitCode.THREAD_DIED
    assert consumer.counters.processed_count == 1  # the warm stop let the handler finish
    assert get_rsmq().get_queue_attributes("work").msgs == 0, mid


def test_outage_while_acking_is_one_line_with_the_error_text(
    own_redis: TestRedis,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    swap_handler: Callable[[str, Callable[[Message], Any]], None],
) -> None:
    assert own_redis.server is not None
    server = own_redis.server
    setting = rsmq_setting(own_redis.url, namespace)
    setting["CONNECTIONS"] = {"default": {"URL": own_redis.url, "SOCKET_TIMEOUT": 1}}
    caplog.set_level(logging.INFO, LOG)

    def outage(message: Message) -> None:
        server.stop()  # the handler's ack meets a Redis that is gone

    swap_handler("work", outage)
    with override_settings(RSMQ=setting):
        send("work", "x")
        consumer = Consumer(["work"], max_messages=1, max_idle_time=1.0, verbosity=0)
        run_in_thread(consumer, timeout=30)  # own_redis's teardown copes with a stopped server
    assert not [r for r in caplog.records if "Unexpected error" in r.getMessage()]
    (line,) = one_line_logs(caplog, "could not ack")
    assert "ConnectionError: " in line.getMessage()


# -- Redis TIME for the registry and the throughput samples -------------------------------


@pytest.fixture
def skewed_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """This host's clock two days ahead of Redis' (in the registry, presence and
    throughput modules)."""
    skew = 2 * 86400.0
    fake = types.SimpleNamespace(
        time=lambda: time.time() + skew, monotonic=time.monotonic, sleep=time.sleep
    )
    for mod in (registry_mod, throughput_mod, presence_mod):
        monkeypatch.setattr(mod, "time", fake, raising=False)
    return skew


def server_ms(client: redis.Redis) -> int:
    sec, usec = client.time()
    return int(sec) * 1000 + int(usec) // 1000


def test_heartbeats_are_scored_by_redis_time_not_the_host_clock(skewed_clock: float) -> None:
    r = get_rsmq()
    before = server_ms(r.client)
    presence = Presence("skewed-1", [r], ["work"], interval=1, ttl=5, status=dict)
    presence.beat()
    after = server_ms(r.client)
    keys = Keys(r.namespace)
    score = r.client.zscore(keys.consumers, "skewed-1")
    assert score is not None
    assert before <= score <= after
    (info,) = ConsumerRegistry(r.client, r.namespace).list()
    assert before / 1000 - 0.001 <= info.heartbeat <= after / 1000 + 0.001
    assert before / 1000 - 0.001 <= info.started <= after / 1000 + 0.001
    assert info.age() < 5  # by Redis' clock: fresh, whatever this host's clock says


def test_a_skewed_reader_does_not_prune_a_live_consumer(skewed_clock: float) -> None:
    r = get_rsmq()
    reg = ConsumerRegistry(r.client, r.namespace)
    now_ms = server_ms(r.client)
    r.client.zadd(reg.keys.consumers, {"live": now_ms, "ancient": now_ms - 3 * 86400 * 1000})
    names = [c.name for c in reg.list()]  # this host thinks "live" is two days old
    assert names == ["live"]
    assert r.client.zscore(reg.keys.consumers, "ancient") is None


def test_throughput_samples_are_timed_by_redis(skewed_clock: float) -> None:
    r = get_rsmq()
    keys = r.protocol.keys
    before = server_ms(r.client)
    assert sample_rates(r.client, keys, "work", 1, 1).sent_per_minute is None
    after = server_ms(r.client)
    ((member, score),) = r.client.zrange(keys.counter_samples("work"), 0, -1, withscores=True)
    assert before <= score <= after
    assert int(member.split(b":")[0]) == int(score)


def test_any_base_exception_from_a_handler_is_a_failed_message() -> None:
    from django_rsmq.consumer import Counters, MessageProcessor
    from django_rsmq.handlers import Handler

    class Odd(BaseException):
        pass

    def odd(message: Message) -> None:
        raise Odd("not an Exception")

    mid = send("work", "x")
    r = get_rsmq()
    counters = Counters()
    result = MessageProcessor([counters]).handle(r.receive("work"), Handler("work", odd), r)  # type: ignore[arg-type]
    assert result.status == "failed"
    assert counters.failed_count == 1
    (record,) = r.failed("work").items
    assert (record.message_id, record.error) == (mid, "not an Exception")
    assert record.exc_type.endswith(".Odd")


def test_drain_records_a_handlers_system_exit_then_lets_it_through(
    swap_handler: Callable[[str, Callable[[Message], Any]], None],
) -> None:
    from django_rsmq.testing import drain

    def bye(message: Message) -> None:
        raise SystemExit(3)

    swap_handler("work", bye)
    mid = send("work", "x")
    with pytest.raises(SystemExit):
        drain("work")
    (record,) = get_rsmq().failed("work").items
    assert (record.message_id, record.exc_type) == (mid, "SystemExit")


# -- a deleted queue costs the other queues nothing --------------------------------------


def test_a_queue_deleted_under_an_idle_consumer_does_not_slow_its_other_queues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An empty multi-queue round with a deleted queue raises QueueNotFound only after its
    # full WAIT (0.5 s here): that wait is the back-off, so the fetcher must not sleep on
    # top of it and double its sleep every round (up to 5 s without serving "work").
    caplog.set_level(logging.DEBUG, LOG)
    r = get_rsmq()
    r.create_queue("work")
    r.create_queue("awork")
    consumer = Consumer(["work", "awork"], verbosity=0)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(consumer.run()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: r.client.zcard(Keys(r.namespace).consumers) > 0, what="consumer up")
        r.delete_queue("awork")
        failed = "Receiving from work, awork failed"
        wait_for(
            lambda: len([x for x in caplog.records if failed in x.getMessage()]) >= 5,
            timeout=10,
            what="5 rounds that found awork deleted",
        )
        waits = [x.getMessage() for x in caplog.records if failed in x.getMessage()]
        assert all("retrying in 0.0s" in w for w in waits), waits
        started = time.monotonic()
        send("work", {"n": 1})
        wait_for(lambda: r.get_queue_attributes("work").msgs == 0, timeout=5, what="handled")
        assert time.monotonic() - started < 1.5  # no back-off sleep grown past WAIT
    finally:
        consumer.request_stop()
        thread.join(10)
    assert codes == [0]
