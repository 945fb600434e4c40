"""Where the fault handlers (tests/testapp/faults.py) record what they handled: shared by
the handlers (in the consumer processes) and the harness (in the test process), which
must not import the handlers module itself — importing it registers its @handler
functions in the test process, and the system check tests would see them (W001)."""

from __future__ import annotations


def processed_key(namespace: str) -> str:
    return f"fault:{namespace}:processed"


def started_key(namespace: str) -> str:
    return f"fault:{namespace}:started"
