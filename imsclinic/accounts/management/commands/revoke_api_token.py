"""Revoke a user's personal API tokens: one by its hint, or all of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imsclinic.accounts.models import User
from imsclinic.accounts.tokens import api_token_revoke


class Command(BaseCommand):
    help = "Revoke EMAIL's API token with --hint HINT, or every token they hold with --all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="email address of the account holding the token")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="revoke every active token")
        which.add_argument("--hint", help="the token's first characters, as shown on its page")

    def handle(self, *args: Any, email: str, all: bool, hint: str | None, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {email!r}.")
        tokens = user.api_tokens.filter(revoked_at__isnull=True)
        if hint is not None:
            hint = hint.strip().rstrip("…").rstrip(".")
            if not hint:
                raise CommandError("Give the token's hint, e.g. --hint ims_AbCd.")
            tokens = tokens.filter(hint__startswith=hint)
            matches = list(tokens)
            if not matches:
                raise CommandError(
                    f"{user.email} has no active token whose hint starts with {hint!r}."
                )
            if len(matches) > 1:
                raise CommandError(
                    f"{len(matches)} active tokens match {hint!r}; "
                    "give more of the hint or use --all."
                )
        revoked = [token for token in tokens if api_token_revoke(token=token, actor=None)]
        self.stdout.write(f"Revoked {len(revoked)} token(s) of {user.email}.")
