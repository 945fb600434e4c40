"""The example's handlers (autodiscovered: django_rsmq imports ``<app>.handlers``).

Which orders fail is decided by the order number, so every run of the demo ends
the same way:

- every 10th order (10, 20, ...) is declined on every delivery: after its 3rd
  failed delivery (``MAX_RECEIVES``) it lands in ``orders-dlq``, and each failure
  leaves a failure record (``manage.py rsmq_failed orders list``);
- the other multiples of 4 (4, 8, 12, 16, 24, ...) time out on their first delivery
  only: each leaves one failure record, is retried and then succeeds;
- all other orders succeed at once.
"""

from __future__ import annotations

import asyncio
import logging
import time

from django_rsmq import handler
from django_rsmq.engine import Message

log = logging.getLogger(__name__)

#: seconds an order "takes"; small, but long enough for the consumer's progress line
ORDER_WORK_SECONDS = 0.05


class PaymentDeclined(Exception):
    """The payment provider said no (and will keep saying no)."""


class WarehouseTimeout(Exception):
    """The warehouse did not answer in time (it will next time)."""


@handler("orders")
def process_order(message: Message) -> None:
    order = message.body["order"]
    time.sleep(ORDER_WORK_SECONDS)
    if order % 10 == 0:
        raise PaymentDeclined(f"card declined for order {order}")
    if order % 4 == 0 and message.rc == 1:
        raise WarehouseTimeout(f"warehouse did not answer for order {order}")
    log.info("order %s shipped (delivery %s)", order, message.rc)


@handler("reminders")
def send_reminder(message: Message) -> None:
    log.info("reminder for %s: %s", message.body["to"], message.body["text"])


@handler("notifications")
async def notify(message: Message) -> None:
    # An async handler: the consumer runs it on its event loop.
    await asyncio.sleep(0.01)  # e.g. an HTTP call with httpx.AsyncClient
    log.info("notified %s", message.body["user"])
