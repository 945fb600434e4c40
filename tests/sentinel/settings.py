"""tests.settings with the default connection on the Sentinel group named by
``RSMQ_TEST_SENTINELS`` (``host:port,host:port,...``) and ``RSMQ_TEST_MASTER``."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import rsmq_setting

_sentinels = [
    (host, int(port))
    for host, _, port in (a.rpartition(":") for a in os.environ["RSMQ_TEST_SENTINELS"].split(","))
]
RSMQ = rsmq_setting(None, os.environ.get("RSMQ_TEST_NAMESPACE", "tests"))
RSMQ["CONNECTIONS"] = {
    "default": {
        "SENTINELS": _sentinels,
        "MASTER_NAME": os.environ["RSMQ_TEST_MASTER"],
        "SOCKET_TIMEOUT": 2,
        "SOCKET_CONNECT_TIMEOUT": 1,
    }
}
