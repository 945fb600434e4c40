"""Eager mode (``RSMQ["EAGER"] = True``): ``send()`` hands the message to the queue's
handler inline, in the sending process, through the same :class:`MessageProcessor` and
signals as the consumer; the handler's exception propagates to the caller.

The producer does not import the handler registry or the consumer (they import it:
``Handler.send``); :func:`install`, called when Django starts, plugs :func:`deliver` in.
"""

from __future__ import annotations

from .. import producer
from ..engine.message import Message
from ..handlers import registry
from .hooks import SignalHooks
from .processing import MessageProcessor

__all__ = ["deliver", "install"]


def deliver(message: Message) -> None:
    """Handle ``message`` now with its queue's handler (nothing if it has none)."""
    h = registry.get(message.queue)
    if h is not None:
        MessageProcessor([SignalHooks()]).handle(message, h, None)


def install() -> None:
    """Make eager mode's ``send()`` deliver through :func:`deliver`."""
    producer.deliver_inline_with(deliver)
