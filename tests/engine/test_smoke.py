from django_rsmq.engine import RSMQ


def test_send_receive_ack_roundtrip(rsmq: RSMQ) -> None:
    rsmq.create_queue("q")
    mid = rsmq.send("q", "hello")
    msg = rsmq.receive("q")
    assert msg is not None
    assert (msg.id, msg.body, msg.rc) == (mid, "hello", 1)
    rsmq.ack(msg.receipt)
    assert rsmq.get_queue_attributes("q").msgs == 0
