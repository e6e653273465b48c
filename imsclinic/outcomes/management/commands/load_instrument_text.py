"""Load a questionnaire's licensed wording from a JSON file (see docs/OUTCOMES.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imsclinic.accounts.models import User
from imsclinic.outcomes.errors import WordingInvalid
from imsclinic.outcomes.instruments import LICENSED, template
from imsclinic.outcomes.services import instrument_text_load


class Command(BaseCommand):
    help = (
        "Load the published wording of ODI, NDI, QuickDASH or LEFS from PATH (a JSON file the "
        "clinic fills in under its own licence). --template CODE prints an empty file instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="the wording file (JSON)")
        parser.add_argument("--by", default="", help="email of the owner loading it (audited)")
        parser.add_argument(
            "--template",
            default="",
            choices=sorted(LICENSED),
            help="print an empty wording file for this questionnaire and stop",
        )

    def handle(self, *args: Any, path: str | None, by: str, template: str, **options: Any) -> None:
        if template:
            self.stdout.write(json.dumps(_template(template), indent=2, ensure_ascii=False))
            return
        if not path:
            raise CommandError("Give the path of a wording file, or --template CODE.")
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        except json.JSONDecodeError as error:
            raise CommandError(f"{path} is not valid JSON: {error}.") from error
        actor = None
        if by:
            actor = User.objects.filter(email__iexact=by.strip()).first()
            if actor is None:
                raise CommandError(f"No account has the email address {by!r}.")
        try:
            text = instrument_text_load(data=data, actor=actor)
        except WordingInvalid as error:
            raise CommandError(str(error)) from error
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Loaded the wording of {text.instrument} ({text.version}, {len(text.items)} items). "
            "The questionnaires now show it."
        )


def _template(code: str) -> dict[str, Any]:
    return template(code)
