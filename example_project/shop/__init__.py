"""The example's app: handlers, a page that sends messages, and the ``demo`` command."""
