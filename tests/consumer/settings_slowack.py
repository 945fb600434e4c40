"""tests.settings with acks held back (``ACK_INTERVAL`` 30 s): handled messages stay
pending until a stop (issue 19's batched settle)."""

from __future__ import annotations

from tests.settings import *  # noqa: F403
from tests.settings import RSMQ

RSMQ["CONSUMER"] = {  # type: ignore[index]
    **RSMQ["CONSUMER"],  # type: ignore[dict-item]
    "ACK_INTERVAL": 30.0,
}
