"""The owner edits the working weeks on the clinic-settings site (/manage/): shifts with their
breaks, time off and closures."""

from __future__ import annotations

from django.contrib import admin

from imsclinic.clinic.admin import OpeningHoursInline, OwnerModelAdmin, owner_site
from imsclinic.scheduling.models import ClinicClosure, Shift, ShiftBreak, TimeOff


class ShiftBreakInline(OpeningHoursInline):
    model = ShiftBreak  # type: ignore[assignment]


@admin.register(Shift, site=owner_site)
class ShiftAdmin(OwnerModelAdmin):
    list_display = (
        "practitioner",
        "location",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    )
    list_filter = ("location", "practitioner", "weekday")
    inlines = (ShiftBreakInline,)


@admin.register(TimeOff, site=owner_site)
class TimeOffAdmin(OwnerModelAdmin):
    list_display = ("practitioner", "start", "end", "reason")
    list_filter = ("practitioner",)


@admin.register(ClinicClosure, site=owner_site)
class ClinicClosureAdmin(OwnerModelAdmin):
    list_display = ("location", "first_day", "last_day", "reason")
    list_filter = ("location",)
