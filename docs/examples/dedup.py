"""De-duplication: a repeated dedup_id within the queue's window enqueues nothing and
returns the first message's id.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/dedup.py
"""

import os

from django_rsmq.engine import RSMQ

mq = RSMQ(
    os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("RSMQ_NAMESPACE", "examples"),
)
mq.create_queue("orders", dedup_window=300)  # seconds (300 is the default)

first = mq.send("orders", {"order": 42}, dedup_id="order-42")
again = mq.send("orders", {"order": 42}, dedup_id="order-42")  # e.g. a producer retry
other = mq.send("orders", {"order": 43}, dedup_id="order-43")
print("same id for the repeat:", first == again)
print("different id for another order:", first != other)
print("messages in the queue:", mq.get_queue_attributes("orders").msgs)
mq.delete_queue("orders")
