"""``manage.py demo_user``: a superuser to log in to the example's admin.

Runs ``migrate`` first, then creates the user, or resets its password (so running it
again is harmless). Defaults: user ``admin``, password ``admin`` (this is a local demo
on 127.0.0.1 with SQLite; change them with ``--username`` / ``--password`` or the
``DEMO_ADMIN_USERNAME`` / ``DEMO_ADMIN_PASSWORD`` environment variables).
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create (or reset) the example's admin superuser; prints how to log in."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default=os.environ.get("DEMO_ADMIN_USERNAME", "admin"))
        parser.add_argument("--password", default=os.environ.get("DEMO_ADMIN_PASSWORD", "admin"))

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        User = get_user_model()
        user, created = User.objects.get_or_create(username=options["username"])
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(options["password"])
        user.save()
        what = "created" if created else "password reset for"
        self.stdout.write(
            f"admin user {what} {options['username']!r}: log in at "
            f"http://127.0.0.1:8000/admin/ as {options['username']} / {options['password']}"
        )
