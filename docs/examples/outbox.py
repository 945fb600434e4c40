"""The transactional outbox: a message commits or rolls back with the rows it
describes, and reaches Redis exactly once, even when the relay dies between its send
and its delete.

A self-contained Django setup (SQLite in memory); in a project these are your settings,
``manage.py migrate`` and ``manage.py rsmq_relay`` (or ``rsmq_consume``, whose relay
thread is on when a queue has ``OUTBOX: True``).

Run: RSMQ_URL=redis://127.0.0.1:6379/0 python docs/examples/outbox.py
"""

import os

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_rsmq"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
    RSMQ={
        "CONNECTIONS": {"default": os.environ.get("RSMQ_URL", "redis://127.0.0.1:6379/0")},
        "NAMESPACE": os.environ.get("RSMQ_NAMESPACE", "examples"),
        "QUEUES": {"orders": {"OUTBOX": True}},  # send() in atomic() -> the outbox
    },
)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from django_rsmq import send  # noqa: E402
from django_rsmq.connections import get_rsmq  # noqa: E402
from django_rsmq.outbox.model import OutboxMessage  # noqa: E402
from django_rsmq.outbox.relay import Relay  # noqa: E402

call_command("migrate", verbosity=0)  # creates the outbox table
mq = get_rsmq()

# 1. Rolled back: the message goes with the transaction.
try:
    with transaction.atomic():
        send("orders", {"order": 1})  # a row in the outbox table, not a Redis call
        raise RuntimeError("payment declined")
except RuntimeError:
    pass
print("rows after the rollback:", OutboxMessage.objects.count())

# 2. Committed: the relay sends it (woken by the commit, or on its next poll).
with transaction.atomic():
    send("orders", {"order": 2}, delay=0)
print("rows after the commit:", OutboxMessage.objects.count())
print("relayed:", Relay().drain())
print("in Redis:", [m.body for m in mq.pop_many("orders", 10)])


# 3. A relay that dies after its send, before its delete: the row stays, the next
#    relay sends it again with the same dedup id, and Redis drops the repeat.
class Crash(Exception):
    pass


def crash(rows):
    raise Crash


with transaction.atomic():
    send("orders", {"order": 3})
try:
    Relay(after_send=crash).drain()
except Crash:
    print("relay died; rows left:", OutboxMessage.objects.count())
print("relayed again:", Relay().drain())
print("messages in Redis for order 3:", mq.get_queue_attributes("orders").msgs)

mq.delete_queue("orders")
