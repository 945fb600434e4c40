"""Engine basics: create a queue, send, receive, ack, look at the counts.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/basics.py
"""

import os

from django_rsmq.engine import RSMQ

mq = RSMQ(
    os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("RSMQ_NAMESPACE", "examples"),
)
mq.create_queue("emails", vt=30)

first = mq.send("emails", {"to": "ada@example.com", "subject": "Hello"})
mq.send("emails", "plain text is fine too")
mq.send("emails", {"to": "bob@example.com"}, delay=60)  # visible in a minute

msg = mq.receive("emails")  # hidden from other consumers for 30 s
assert msg is not None
assert msg.id == first
print("received", msg.body, "rc =", msg.rc)
mq.ack(msg.receipt)  # done: delete it

a = mq.get_queue_attributes("emails")
print(f"visible={a.visible} in_flight={a.in_flight} delayed={a.delayed} sent={a.totalsent}")

for peeked in mq.peek("emails"):  # look without receiving
    print("peek", peeked.state, peeked.body)

mq.delete_queue("emails")
