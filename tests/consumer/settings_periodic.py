"""tests.settings with ``RSMQ["SCHEDULE"]`` from ``RSMQ_TEST_SCHEDULE`` (JSON)."""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import RSMQ

RSMQ["SCHEDULE"] = json.loads(os.environ.get("RSMQ_TEST_SCHEDULE", "{}"))  # type: ignore[index]
