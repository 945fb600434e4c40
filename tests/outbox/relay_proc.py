"""A relay in a subprocess, for the kill tests: ``relay_proc.py DATABASE [KILL_AFTER]``.

Relays ``DATABASE``'s outbox (batches of 100) until it is empty, then prints ``done``
and exits. With ``KILL_AFTER=N`` it prints ``sent`` after the send of its N-th round,
before that round's delete, and waits there to be killed.
"""

from __future__ import annotations

import sys
import threading
import time

import django


def main() -> None:
    django.setup()
    from django_rsmq.outbox.model import OutboxMessage
    from django_rsmq.outbox.relay import Relay

    database = sys.argv[1]
    kill_after = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    rounds = 0

    def after_send(rows: object) -> None:
        nonlocal rounds
        rounds += 1
        if rounds == kill_after:
            print("sent", flush=True)
            threading.Event().wait()  # until SIGKILL

    relay = Relay(database, batch_size=100, lease_ttl=1, after_send=after_send)
    print("started", flush=True)
    while OutboxMessage.objects.using(database).exists():
        if relay.relay_once() == 0:
            time.sleep(0.05)  # another relay's lease (it expires: LEASE_TTL 1 s)
    print("done", flush=True)


if __name__ == "__main__":
    main()
