"""Retries, a dead-letter queue, failure records and redrive.

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/retries.py
"""

import os

from django_rsmq.engine import RSMQ, RetryPolicy

mq = RSMQ(
    os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("RSMQ_NAMESPACE", "examples"),
)
# At most 3 deliveries; then the message goes to "payments-dlq" (created automatically).
# Retries are due at once here so the example runs fast; use RetryPolicy.exponential().
mq.create_queue("payments", vt=30, max_receives=3, retry=RetryPolicy.fixed(0))
mq.send("payments", {"payment": 7, "amount": 100})


def charge(body: dict) -> None:
    raise ConnectionError(f"bank unreachable for payment {body['payment']}")


while (msg := mq.receive("payments")) is not None:
    try:
        charge(msg.body)
    except Exception as exc:
        result = mq.fail(msg.receipt, exc)  # failure record + retry, or the DLQ
        print(f"delivery {msg.rc} failed; dead-lettered={result.dead_lettered}")
    else:
        mq.ack(msg.receipt)

records = mq.failed("payments")
print("failure records:", records.total, records.items[0].exc_type)

dead = mq.peek("payments-dlq")
info = mq.dead_letter_info("payments-dlq", dead[0].id)
assert info is not None
print("in the DLQ:", dead[0].body, "from", info.queue, "reason", info.reason)

# The bank is back: move the dead letter home with a fresh set of deliveries.
moved = mq.redrive("payments-dlq", reset_rc=True)
print(
    "redriven:",
    len(moved.moved),
    "-> visible in payments:",
    mq.get_queue_attributes("payments").visible,
)

mq.delete_queue("payments")
mq.delete_queue("payments-dlq")
