"""Long polling: a receive that waits returns as soon as a message arrives
(woken by the realtime PUBLISH) or comes due (a delayed message).

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/long_polling.py
"""

import os
import threading
import time

from django_rsmq.engine import RSMQ

url = os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0")
ns = os.environ.get("RSMQ_NAMESPACE", "examples")
with RSMQ(url, namespace=ns, realtime=True) as mq:
    mq.create_queue("alerts")

    # A producer in another thread (it could be another process, or Node rsmq with
    # realtime: true) sends after 0.3 s.
    producer = threading.Timer(0.3, lambda: mq.send("alerts", {"level": "high"}))
    producer.start()
    started = time.monotonic()
    msg = mq.receive("alerts", wait=10)  # sleeps until the PUBLISH wakes it
    assert msg is not None
    print("woken by the send:", msg.body, "after < 5 s:", time.monotonic() - started < 5)
    mq.ack(msg)
    producer.join()

    # A delayed message wakes the waiter when it comes due, no publish needed.
    mq.send("alerts", {"level": "later"}, delay=0.5)
    msg = mq.receive("alerts", wait=10)
    assert msg is not None
    print("due after its delay:", msg.body)
    mq.ack(msg)

    # Several queues: whichever has messages first.
    mq.create_queue("pages")
    mq.send("pages", "on-call")
    got = mq.receive_from(["alerts", "pages"], 10, wait=5)
    print("receive_from:", [(m.queue, m.body) for m in got])
    mq.ack_many(got)

    # Nothing arrives: the wait ends at its deadline.
    print("empty queue, wait=0.2:", mq.receive("alerts", wait=0.2))
    mq.delete_queue("alerts")
    mq.delete_queue("pages")
