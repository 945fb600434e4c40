"""Django signals sent by django-rsmq.

Message signals are sent with ``sender`` = the queue name. Which process sends each:

=======================  =================================  ==================================
signal                   sent by                            extra keyword arguments
=======================  =================================  ==================================
message_sent             the process that sends (web, shell  ``message_id``, ``body``,
                         or a handler), after Redis took it  ``delay``
message_received         the consumer, before the handler    ``message``
message_processed        the consumer, after the handler     ``message``, ``duration`` (s)
                         returned and the message was acked
message_failed           the consumer, after the handler     ``message``, ``exception``,
                         raised (or the body was undecodable) ``rc``, ``will_retry``
message_dead_lettered    the consumer, when the failure moved ``message``, ``dead_letter_queue``
                         the message to the DLQ
message_requeued         whoever requeued from the DLQ or     ``ids``, ``moved``, ``to``,
                         failed list (command, admin, API)    ``source``
admin_action             the admin, after a mutating action  ``action``, ``detail``, ``user``,
                         (purge, delete, requeue, move, edit) ``kind`` (add/change/delete)
consumer_started         the consumer, once it is ready       ``consumer``
consumer_stopping        the consumer, when a stop begins     ``consumer``, ``cold``
consumer_stopped         the consumer, as it exits            ``consumer``, ``exit_code``
=======================  =================================  ==================================

Consumer signals are sent with ``sender`` = the :class:`~django_rsmq.consumer.Consumer`
class. In eager mode (``RSMQ["EAGER"] = True``) the message signals are sent in the
process that calls ``send()``.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = [
    "admin_action",
    "consumer_started",
    "consumer_stopped",
    "consumer_stopping",
    "message_dead_lettered",
    "message_failed",
    "message_processed",
    "message_received",
    "message_requeued",
    "message_sent",
]

message_sent = Signal()
message_received = Signal()
message_processed = Signal()
message_failed = Signal()
message_dead_lettered = Signal()
message_requeued = Signal()
admin_action = Signal()
consumer_started = Signal()
consumer_stopping = Signal()
consumer_stopped = Signal()
