"""Handlers the tests consume with. Each records what happened in a Redis list so the
test process can follow along: ``"<event> <queue> <id> <rc> <pid> <epoch ms>"``."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from django.dispatch import receiver

from django_rsmq import DeadLetter, Discard, Retry, Snooze, handler, signals
from django_rsmq.conf import rsmq_settings
from django_rsmq.connections import get_rsmq
from django_rsmq.engine import Message


def events_key() -> str:
    return f"test:{rsmq_settings().namespace}:events"


def record(event: str, message: Message) -> None:
    get_rsmq().client.rpush(
        events_key(),
        f"{event} {message.queue} {message.id} {message.rc} {os.getpid()} {time.time() * 1000:.0f}",
    )


def _behave(message: Message) -> dict[str, Any]:
    body = message.body
    return body if isinstance(body, dict) else {}


@handler("work")
def work(message: Message) -> None:
    b = _behave(message)
    record("start", message)
    time.sleep(float(b.get("sleep", 0)))
    if message.rc == 1:
        time.sleep(float(b.get("sleep_first", 0)))
    if b.get("fail"):
        raise RuntimeError(f"asked to fail: {b.get('fail')}")
    if "exit" in b:
        raise SystemExit(b["exit"])
    record("done", message)


@handler("awork")
async def awork(message: Message) -> None:
    b = _behave(message)
    record("start", message)
    await asyncio.sleep(float(b.get("sleep", 0)))
    record("done", message)


@handler("flaky")
def flaky(message: Message) -> None:
    record("start", message)
    raise ValueError("always fails")


# Handler outcomes (django_rsmq/outcomes.py): the body says which one to raise, on which
# delivery (rc) — {"do": "retry" | "snooze" | "dead" | "discard", "delay": s, "on": [rc]}
# (every delivery without "on"; a delivery not in "on" returns).
@handler("outcomes")
def outcomes(message: Message) -> None:
    b = _behave(message)
    record("start", message)
    if "on" in b and message.rc not in b["on"]:
        record("done", message)
        return
    do, delay = b.get("do"), b.get("delay")
    if do == "retry":
        raise Retry(delay=delay, reason="try later")
    if do == "snooze":
        raise Snooze(delay=delay)
    if do == "dead":
        raise DeadLetter("poison")
    if do == "discard":
        raise Discard("obsolete")
    record("done", message)


# Signals of the "outcomes" queue only (sender= matches by identity, not string equality),
# in consumers started with RSMQ_TEST_OUTCOME_SIGNALS (tests/consumer/test_outcomes.py):
# other tests keep the no-receiver path of SignalHooks.
if os.environ.get("RSMQ_TEST_OUTCOME_SIGNALS"):

    @receiver(signals.message_failed)
    def _outcome_failed(*, message: Message, will_retry: bool, **kwargs: Any) -> None:
        if message.queue == "outcomes":
            record(f"sig-failed-{'retry' if will_retry else 'final'}", message)

    @receiver(signals.message_dead_lettered)
    def _outcome_dead(*, message: Message, **kwargs: Any) -> None:
        if message.queue == "outcomes":
            record("sig-dead", message)

    @receiver(signals.message_processed)
    def _outcome_processed(*, message: Message, **kwargs: Any) -> None:
        if message.queue == "outcomes":
            record("sig-processed", message)
