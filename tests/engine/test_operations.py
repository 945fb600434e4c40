"""Both front ends are made from one definition per operation (engine/operation.py):
the same public methods with the same signatures and docstrings, blocking on one side
and coroutines on the other, so neither can drift from the other."""

from __future__ import annotations

import inspect

import pytest

from django_rsmq.engine import RSMQ, AsyncQueue, AsyncRSMQ, Queue
from django_rsmq.engine.operation import Operation

SYNC_ONLY = {"close", "__enter__", "__exit__"}
ASYNC_ONLY = {"aclose", "__aenter__", "__aexit__"}
NOT_IO = {"queue", "is_realtime"}  # no Redis call: plain methods on both


def _public(cls: type) -> dict[str, object]:
    return {
        name: getattr(cls, name)
        for name in dir(cls)
        if not name.startswith("_") and callable(getattr(cls, name))
    }


@pytest.mark.parametrize(("sync", "aio"), [(RSMQ, AsyncRSMQ), (Queue, AsyncQueue)])
def test_the_front_ends_have_the_same_operations(sync: type, aio: type) -> None:
    ours, theirs = _public(sync), _public(aio)
    assert set(ours) - SYNC_ONLY == set(theirs) - ASYNC_ONLY
    for name in set(ours) - SYNC_ONLY - NOT_IO:
        blocking, coroutine = ours[name], theirs[name]
        assert not inspect.iscoroutinefunction(blocking), name
        assert inspect.iscoroutinefunction(coroutine), name
        assert blocking.__doc__ == coroutine.__doc__, name  # type: ignore[attr-defined]
        if not (sync is Queue and name == "send"):  # the sync handle's send has durable=
            assert inspect.signature(blocking) == inspect.signature(coroutine), name  # type: ignore[arg-type]


def test_a_method_made_from_an_operation_returns_what_its_work_returns() -> None:
    sig = inspect.signature(RSMQ.send)
    assert sig.return_annotation == "str"
    assert list(sig.parameters)[:3] == ["self", "qname", "body"]
    assert inspect.signature(AsyncRSMQ.receive).return_annotation == "Message | None"
    assert RSMQ.send.__qualname__ == "RSMQ.send"
    assert (RSMQ.send.__doc__ or "").startswith("Send a message")


def test_every_io_method_is_made_from_an_operation() -> None:
    """No hand-written I/O method left on one front end only."""
    operations = {
        name
        for klass in RSMQ.__mro__
        for name, attr in vars(klass).items()
        if isinstance(attr, Operation)
    }
    assert set(_public(RSMQ)) - SYNC_ONLY - NOT_IO <= operations
