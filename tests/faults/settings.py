"""Django settings of the fault suite's ``rsmq_consume`` subprocesses.

The test suite's settings plus the fault queues and their handlers
(tests/testapp/faults.py). The connection (``RSMQ_FAULT_URL``: the private Redis or a
fault proxy in front of it) and namespace (``RSMQ_FAULT_NAMESPACE``) come from the
environment the harness sets. Visibility timeouts are 1 s so a delivery lost with a
killed consumer comes back fast; short socket timeouts so a cut is noticed fast.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

VT = 1

RSMQ = {
    "CONNECTIONS": {
        "default": {
            "URL": os.environ.get("RSMQ_FAULT_URL", "redis://127.0.0.1:1/0"),
            "SOCKET_TIMEOUT": 3,
            "SOCKET_CONNECT_TIMEOUT": 1,
        }
    },
    "NAMESPACE": os.environ.get("RSMQ_FAULT_NAMESPACE", "faults"),
    "AUTODISCOVER_MODULES": ["faults"],
    "QUEUES": {
        "fa": {"VISIBILITY_TIMEOUT": VT, "RETRY": [0]},
        "fb": {"VISIBILITY_TIMEOUT": VT, "RETRY": [0]},
        "fexit": {"VISIBILITY_TIMEOUT": VT, "RETRY": [0]},
        "fpoison": {
            "VISIBILITY_TIMEOUT": VT,
            "RETRY": [0],
            "MAX_RECEIVES": 2,
            "DEAD_LETTER_QUEUE": "fpoison-dlq",
        },
        "fpoison-dlq": {},
    },
    "CONSUMER": {
        "HEARTBEAT_INTERVAL": 0.5,
        "REGISTRY_TTL": 5,
        "WAIT": 0.5,
        "POLL_INTERVAL": 0.2,
        "PROGRESS_INTERVAL": 1,
    },
}
