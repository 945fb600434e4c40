"""How a consumer run ends: :class:`ExitCode` (the process exit code of ``rsmq_consume``,
documented in docs/commands.md) and :class:`ConsumerError`, a start-up failure with its code."""

from __future__ import annotations

import enum

__all__ = ["ConsumerError", "ExitCode"]


class ExitCode(enum.IntEnum):
    OK = 0  # clean stop: signal (warm), --burst, --max-messages, --max-idle-time
    CONNECTION_ERROR = 1  # Redis unreachable at start
    CONFIG_ERROR = 2  # unknown queue, no handler, bad settings
    COLD_STOP = 3  # stopped with handlers still running (2nd signal or shutdown timeout)
    THREAD_DIED = 4  # a consumer thread died (a bug): stopped, held messages come back
    HANDLER_EXIT = 5  # a handler raised SystemExit/KeyboardInterrupt: its message failed


class ConsumerError(Exception):
    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code
