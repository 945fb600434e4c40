"""Sending the demo's messages: shared by the ``demo`` command and the send page."""

from __future__ import annotations

from dataclasses import dataclass

from django_rsmq import send


@dataclass(frozen=True)
class Sent:
    orders: int
    notifications: int
    reminders_now: int
    reminders_later: int

    @property
    def total(self) -> int:
        return self.orders + self.notifications + self.reminders_now + self.reminders_later


def send_demo_batch(
    orders: int = 60, notifications: int = 20, reminders: int = 10, first_order: int = 1
) -> Sent:
    """Send ``orders`` orders (numbered from ``first_order``), ``notifications``
    notifications, and ``reminders`` reminders: half due now, half after the queue's
    ``DELAY``."""
    for n in range(first_order, first_order + orders):
        send("orders", {"order": n, "item": f"item-{n % 7}", "qty": 1 + n % 3})
    for n in range(notifications):
        send("notifications", {"user": f"user-{n}", "event": "order-update"})
    now = reminders // 2
    for n in range(reminders):
        body = {"to": f"user-{n}@example.com", "text": "Your cart misses you"}
        # delay=0 overrides the queue's DELAY; None keeps it (visible in 60 s)
        send("reminders", body, delay=0 if n < now else None)
    return Sent(orders, notifications, now, reminders - now)
