"""A relay in a subprocess: ``relay_proc.py DATABASE [--kill-after N] [--go]``.

Relays ``DATABASE``'s outbox (batches of ``--batch``, default 100) until it is empty,
then prints ``done <rows it relayed>`` and exits. ``--kill-after N``: prints ``sent``
after the send of its N-th round, before that round's delete, and waits there to be
killed. ``--go``: prints ``ready``, then waits for a line on stdin before relaying.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--kill-after", type=int, default=0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--go", action="store_true")
    args = parser.parse_args()
    django.setup()
    from django_rsmq.outbox.model import OutboxMessage
    from django_rsmq.outbox.relay import Relay

    rounds = 0

    def after_send(rows: object) -> None:
        nonlocal rounds
        rounds += 1
        if rounds == args.kill_after:
            print("sent", flush=True)
            threading.Event().wait()  # until SIGKILL

    relay = Relay(args.database, batch_size=args.batch, lease_ttl=1, after_send=after_send)
    OutboxMessage.objects.using(args.database).exists()  # connected before "ready"
    if args.go:
        print("ready", flush=True)
        sys.stdin.readline()
    while OutboxMessage.objects.using(args.database).exists():
        if relay.relay_once() == 0:
            time.sleep(0.02)  # rows locked by another relay, or its lease (LEASE_TTL 1 s)
    print(f"done {relay.relayed}", flush=True)


if __name__ == "__main__":
    main()
