"""Template context shared by every page."""

from typing import Any

from django.http import HttpRequest

from imsclinic.clinic.models import Clinic


def clinic(request: HttpRequest) -> dict[str, Any]:
    """Put the clinic (name, phone, email) in every template."""
    return {"clinic": Clinic.current()}
