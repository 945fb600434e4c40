"""Shared bits of the management commands: tables, JSON, turning errors into exits."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import redis
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from ..engine.errors import RSMQError
from ..engine.server import RedisServerFailed, RedisServerNotFound
from ..operations.redrive import DeadLetterQueueMissing

__all__ = ["as_json", "command_errors", "table"]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@contextmanager
def command_errors(returncode: int = 1) -> Iterator[None]:
    """Turn library errors into ``CommandError`` with a clean one-line message.

    Covers what a user can run into: an unknown queue or a bad value (``RSMQError``,
    ``LookupError``), invalid settings, no ``redis-server`` for the embedded Redis or one
    that does not start, an unreachable Redis, and an error reply from Redis.
    """
    try:
        yield
    except (RSMQError, DeadLetterQueueMissing, LookupError, ImproperlyConfigured) as exc:
        raise CommandError(_one_line(exc), returncode=returncode) from exc
    except (RedisServerNotFound, RedisServerFailed) as exc:
        raise CommandError(f"Embedded Redis: {_one_line(exc)}", returncode=returncode) from exc
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise CommandError(f"Cannot reach Redis: {_one_line(exc)}", returncode=returncode) from exc
    except redis.RedisError as exc:
        raise CommandError(f"Redis error: {_one_line(exc)}", returncode=returncode) from exc
    except OSError as exc:  # e.g. the embedded Redis's data dir cannot be created
        raise CommandError(_one_line(exc), returncode=returncode) from exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def confirm(yes: bool, what: str, action: Callable[[], Any]) -> Any:
    if not yes:
        raise CommandError(f"Refusing to {what} without --yes")
    return action()
