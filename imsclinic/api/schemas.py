"""Shapes of what the API sends back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from django.http import HttpResponse
from ninja import Schema
from ninja.responses import NinjaJSONEncoder
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from imsclinic.core.validators import SINGLE_LINE_MESSAGE, has_control_characters


def _single_line(value: str) -> str:
    if has_control_characters(value):
        raise PydanticCustomError("control_characters", str(SINGLE_LINE_MESSAGE))
    return value


# Text of one line: line breaks, tabs, NUL and other control characters are refused (422).
SingleLine = Annotated[str, AfterValidator(_single_line)]


def json_as_documented(data: Any, status: int = 200) -> HttpResponse:
    """Answer with data the view built in its documented shape, encoded as ninja would.

    For long lists of plain values: ninja would validate each item through its schema first,
    which for a week of slots cost more than finding them. The schema stays the route's
    documented `response`, and the API's tests read these answers against it.
    """
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder),
        status=status,
        content_type="application/json; charset=utf-8",
    )


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in words.")


class ValidationErrorOut(Schema):
    detail: list[dict[str, Any]] = Field(
        description="One entry per invalid input: where it is (loc), what is wrong (msg), its type."
    )


class PatientOut(Schema):
    id: int
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    phone: str
    email: str


class PatientPageOut(Schema):
    count: int = Field(description="How many patients match, across every page.")
    page: int
    page_size: int
    items: list[PatientOut]


class CareTeamMemberOut(Schema):
    id: int
    name: str
    slug: str


class VisitOut(Schema):
    id: int
    start: dt.datetime = Field(description="ISO 8601 with the offset of the location's time zone.")
    end: dt.datetime
    time_zone: str = Field(description="The location's IANA time zone, e.g. America/Vancouver.")
    status: str
    service: str
    practitioner: str
    location: str
    room: str | None


class PatientDetailOut(PatientOut):
    pronouns: str
    address_line1: str
    address_line2: str
    city: str
    region: str
    postal_code: str
    emergency_contact_name: str
    emergency_contact_phone: str
    care_team: list[CareTeamMemberOut]
    upcoming_visits: list[VisitOut]
