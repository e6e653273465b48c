"""Issue a personal API token: the token alone goes to stdout, so scripts can capture it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from imsclinic.accounts.errors import TokenRefused
from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_issue


class Command(BaseCommand):
    help = "Issue a personal API token for EMAIL and print only the token on stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="email address of the account that will hold the token")
        parser.add_argument(
            "--name", default="", help="what the token is for (default: command line and the date)"
        )

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {email!r}.")
        if not name:
            name = f"Command line, {timezone.localdate():%Y-%m-%d}"
        try:
            token, raw = api_token_issue(user=user, name=name, actor=None)
        except TokenRefused as refusal:
            raise CommandError(" ".join(refusal.messages)) from refusal
        # Only the token on stdout; the note goes to stderr so $(...) captures a clean value.
        self.stdout.write(raw)
        self.stderr.write(
            f"Issued token {token.hint}… ({token.name}) to {user.email}. "
            "It is shown only this once; send it as 'Authorization: Bearer <token>'."
        )
