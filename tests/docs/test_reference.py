"""The reference pages cover what the code has: every settings key is in the settings
reference (docs/django.md) and every management command and flag in docs/commands.md."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from django_rsmq import conf

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: Django's own options every command has
BASE_FLAGS = {
    "--help",
    "--version",
    "--verbosity",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
    "--skip-checks",
}


@pytest.mark.parametrize(
    "keys",
    [
        conf.TOP_LEVEL_KEYS,
        conf.QUEUE_KEYS,
        conf.CONNECTION_KEYS,
        conf.CONSUMER_KEYS,
        conf.ADMIN_KEYS,
        conf.OUTBOX_KEYS,
    ],
    ids=["top", "queue", "connection", "consumer", "admin", "outbox"],
)
def test_every_settings_key_is_in_the_settings_reference(keys: object) -> None:
    text = (DOCS / "django.md").read_text()
    missing = [k for k in keys if f"`{k}`" not in text]  # type: ignore[attr-defined]
    assert not missing, f"settings keys missing from docs/django.md: {missing}"


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _flags(sub)
        else:
            found |= {s for s in action.option_strings if s.startswith("--")}
    return found


RSMQ_COMMANDS = sorted(n for n, app in get_commands().items() if app == "django_rsmq")


def test_the_app_has_the_commands_the_page_lists() -> None:
    assert RSMQ_COMMANDS == [
        "rsmq_consume",
        "rsmq_dlq",
        "rsmq_failed",
        "rsmq_healthcheck",
        "rsmq_queues",
        "rsmq_relay",
        "rsmq_schedule",
        "rsmq_send",
        "rsmq_stats",
    ]


@pytest.mark.parametrize("name", RSMQ_COMMANDS)
def test_every_command_and_flag_is_in_the_commands_page(name: str) -> None:
    text = (DOCS / "commands.md").read_text()
    assert f"## `{name}" in text or f"`{name} " in text
    parser = load_command_class("django_rsmq", name).create_parser("manage.py", name)
    missing = sorted(f for f in _flags(parser) - BASE_FLAGS if f not in text)
    assert not missing, f"{name} flags missing from docs/commands.md: {missing}"
