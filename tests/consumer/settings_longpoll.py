"""tests.settings with a long consumer WAIT (``RSMQ_TEST_WAIT``, default 20 s): what a
stop must not wait for."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import RSMQ

RSMQ["CONSUMER"] = {  # type: ignore[index]
    **RSMQ["CONSUMER"],  # type: ignore[dict-item]
    "WAIT": float(os.environ.get("RSMQ_TEST_WAIT", "20")),
}
