"""The operator API: what the admin, the management commands, the Django Tasks backend
and your own scripts call to look at and act on the declared queues.

- :mod:`.queues`: declared queues versus Redis (create, compare, sync, purge)
- :mod:`.stats`: the numbers of every queue and consumer (``rsmq_stats``, the dashboard)
- :mod:`.metrics`: those numbers as Prometheus text
- :mod:`.messages`: browsing one queue's messages (the admin's message browser)
- :mod:`.redrive`: dead-letter queues and failure records: list, requeue, delete, move
- :mod:`.health`: consumer liveness (``rsmq_healthcheck``)

It sits on the configuration layer (:mod:`django_rsmq.conf`,
:mod:`django_rsmq.connections`) and the engine. Of the layers below, only sending, the
consumer and the system checks use it (:mod:`.queues`: declared queues are created on
first send and when a consumer starts).
Importing this package imports none of its modules.
"""
