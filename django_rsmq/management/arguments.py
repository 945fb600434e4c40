"""Subcommands that take Django's common options anywhere on the line.

``manage.py rsmq_queues sync --settings X`` or ``rsmq_dlq emails list -v 2``: argparse
hands everything after the subcommand to the subparser, which does not know the
options Django's ``BaseCommand.create_parser`` added to the command's parser, so they
were rejected as "unrecognized arguments". :class:`Subcommands` adds the same options
to every subparser, with ``default=SUPPRESS``: a subparser's values overwrite the
command parser's, so an option given before the subcommand (or its default) is kept
unless it is given again after it.

:func:`one_line_errors` makes a usage error (unknown option, bad value) one line on
stderr, exit code 2, instead of argparse's usage block followed by the error.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from django.core.management.base import CommandParser

__all__ = ["DJANGO_OPTIONS", "Subcommands", "add_django_options", "one_line_errors"]

# dests of the options BaseCommand.create_parser adds (--version is left to the command)
DJANGO_OPTIONS = (
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
)


def add_django_options(parent: argparse.ArgumentParser, sub: argparse.ArgumentParser) -> None:
    """Give ``sub`` the Django options ``parent`` has (those a command did not suppress)."""
    group = sub.add_argument_group("Django options")
    for action in parent._actions:
        if action.dest not in DJANGO_OPTIONS or not action.option_strings:
            continue
        kwargs: dict[str, Any] = {"dest": action.dest, "default": argparse.SUPPRESS}
        if isinstance(action, argparse._StoreTrueAction):
            kwargs["action"] = "store_true"
        else:
            kwargs.update(type=action.type, choices=action.choices, metavar=action.metavar)
        group.add_argument(*action.option_strings, help=action.help, **kwargs)


class OneLineErrorParser(CommandParser):
    """A ``CommandParser`` whose command-line usage errors are one line (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        if self.called_from_command_line:
            self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        super().error(message)
        raise AssertionError("unreachable")  # CommandParser.error raises CommandError


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` (a command's ``CommandParser``) and subparsers added to it later
    report usage errors on one line. Called first thing in ``add_arguments``."""
    if type(parser) is CommandParser:
        parser.__class__ = OneLineErrorParser


class Subcommands:
    """``parser.add_subparsers(**kwargs)`` whose ``add_parser`` adds Django's options."""

    def __init__(self, parser: argparse.ArgumentParser, **kwargs: Any) -> None:
        one_line_errors(parser)  # before add_subparsers: subparsers take the parser's class
        self.parent = parser
        self.action = parser.add_subparsers(**kwargs)

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = self.action.add_parser(name, **kwargs)
        add_django_options(self.parent, sub)
        return sub
