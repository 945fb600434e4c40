"""``rsmq_queues pause NAME`` / ``resume NAME``: one line each, one line for an unknown
queue, and the state the engine reads."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_rsmq import send
from django_rsmq.operations import queues


def _run(*args: str) -> str:
    out = StringIO()
    call_command("rsmq_queues", *args, stdout=out)
    return out.getvalue().strip()


def test_pause_and_resume_from_the_command_line() -> None:
    send("work", "x")
    assert _run("pause", "work") == "paused work"
    assert _run("pause", "work") == "work was paused already"
    assert queues.attributes("work").paused is True
    assert _run("resume", "work") == "resumed work"
    assert _run("resume", "work") == "work was not paused"
    assert queues.attributes("work").paused is False


def test_pausing_an_unknown_queue_is_one_line() -> None:
    with pytest.raises(CommandError, match="Queue not found: 'nope'"):
        call_command("rsmq_queues", "pause", "nope")
