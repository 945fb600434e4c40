"""``django_rsmq.send(..., unique_key=...)``: the Django layer passes the key through."""

from __future__ import annotations

from django_rsmq import send
from django_rsmq.connections import get_rsmq


def test_send_with_a_unique_key_returns_the_holder_until_it_is_handled() -> None:
    first = send("work", {"order": 42}, unique_key="order-42")
    assert send("work", {"order": 42}, unique_key="order-42") == first
    rsmq = get_rsmq()
    msg = rsmq.receive("work")
    assert msg is not None
    rsmq.ack(msg.receipt)
    assert send("work", {"order": 42}, unique_key="order-42") != first
