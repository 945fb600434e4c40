"""django-rsmq: SQS-style message queues on Redis for Django, wire-compatible with RSMQ."""

__version__ = "0.1.0.dev0"
