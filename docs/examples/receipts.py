"""Receipts: a consumer that outlived its visibility timeout cannot ack a message that
was delivered to someone else since; it gets StaleReceipt.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/receipts.py
"""

import os

from django_rsmq.engine import RSMQ, StaleReceipt

mq = RSMQ(
    os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("RSMQ_NAMESPACE", "examples"),
)
mq.create_queue("jobs", vt=30)
mq.send("jobs", {"job": 1})

slow = mq.receive("jobs", vt=0.2)  # the slow consumer: hidden for 0.2 s only
assert slow is not None
print("slow consumer got it: rc =", slow.rc)

# 0.2 s later the message is visible again; a long poll returns as soon as it is.
fast = mq.receive("jobs", wait=5)
assert fast is not None
assert fast.id == slow.id
print("second consumer got it: rc =", fast.rc)

try:
    mq.ack(slow.receipt)  # the old delivery's receipt
except StaleReceipt as exc:
    print("stale ack refused:", exc.receipt_rc, "<", exc.current_rc)

mq.ack(fast.receipt)  # the current delivery acks it
print("acked by the second consumer; messages left:", mq.get_queue_attributes("jobs").msgs)
mq.delete_queue("jobs")
