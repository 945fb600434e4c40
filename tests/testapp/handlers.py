"""Handlers the tests consume with. Each records what happened in a Redis list so the
test process can follow along: ``"<event> <queue> <id> <rc> <pid> <epoch ms>"``."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from django_rsmq import handler
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
