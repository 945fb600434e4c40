"""Batch operations: one round trip, one outcome per entry, in input order.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/batch.py
"""

import os

from django_rsmq.engine import RSMQ, Entry

mq = RSMQ(
    os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("RSMQ_NAMESPACE", "examples"),
)
mq.create_queue("events")

outcomes = mq.send_many(
    "events",
    [
        {"n": 1},
        {"n": 2},
        Entry({"n": 3}, delay=60),  # its own delay
        Entry({"n": 4}, delay=-1),  # invalid: this entry fails, the others do not
    ],
)
print("sent:", [o.ok for o in outcomes])
print("error of the 4th:", type(outcomes[3].error).__name__)

got = mq.receive_many("events", 10)  # up to 10 visible messages, one script call
print("received:", [m.body["n"] for m in got])
acks = mq.ack_many(got)
print("acked:", sum(a.ok for a in acks))
print("left (delayed):", mq.get_queue_attributes("events").delayed)
mq.delete_queue("events")
