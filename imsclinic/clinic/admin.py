"""Clinic settings for the owner: Django's admin, limited to configuration.

Patient records and the audit log are not here on purpose: health information is only
shown through the audited staff pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from imsclinic.clinic.licences import registration_expiry_unknown
from imsclinic.clinic.models import (
    Clinic,
    LicenceReminder,
    Location,
    OpeningHours,
    Practitioner,
    Room,
    Service,
)


class OwnerAdminSite(admin.AdminSite):
    site_header = _("Clinic settings")
    site_title = _("Clinic settings")
    index_title = _("What the clinic offers, where and by whom")
    enable_nav_sidebar = False

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.has_perm("clinic.configure"))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Sign in through allauth only, so the second factor and rate limits always apply."""
        if request.user.is_authenticated:
            # Signed in but not the owner: signing in again would change nothing.
            raise PermissionDenied
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("owner_admin:index")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("owner_admin:index")
        return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")


owner_site = OwnerAdminSite(name="owner_admin")


class OwnerModelAdmin(admin.ModelAdmin):
    """Everything on the owner's site is the owner's to change; nobody else's."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("clinic.configure")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("clinic.configure")

    has_add_permission = has_module_permission  # type: ignore[assignment]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("clinic.configure")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("clinic.configure")


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("clinic.configure")

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission  # type: ignore[assignment]


class RoomInline(OpeningHoursInline):
    model = Room  # type: ignore[assignment]


@admin.register(Clinic, site=owner_site)
class ClinicAdmin(OwnerModelAdmin):
    list_display = ("name", "phone", "email", "currency")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and not Clinic.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Location, site=owner_site)
class LocationAdmin(OwnerModelAdmin):
    list_display = (
        "name",
        "city",
        "region",
        "needs_authorisation",
        "time_zone",
        "phone",
        "is_active",
    )
    prepopulated_fields = {"slug": ("name",)}
    inlines = (OpeningHoursInline, RoomInline)

    @admin.display(description=_("needling needs an authorisation"), boolean=True)
    def needs_authorisation(self, obj: Location) -> bool:
        return obj.needs_needling_authorisation


def licences_today(practitioner: Practitioner, today: dt.date) -> str:
    """Say in a line what stops this practitioner needling today at their open locations,
    and whether the registration expiry is missing (which does not stop them)."""
    gaps: dict[str, None] = {}
    for place in practitioner.locations.all():
        if place.is_active:
            for gap in practitioner.needling_gaps(today, place):
                gaps[gap.sentence()] = None
    notes = list(gaps)
    if registration_expiry_unknown(practitioner.licences):
        notes.append(str(_("No registration expiry recorded: please add it.")))
    if not notes and practitioner.ims_certified_on is None:
        return str(_("Not IMS-certified"))
    return " ".join(notes) or str(_("All current"))


@admin.register(Practitioner, site=owner_site)
class PractitionerAdmin(OwnerModelAdmin):
    list_display = (
        "display_name",
        "profession",
        "registration_number",
        "registration_status",
        "registration_expires_on",
        "ims_certification_expires_on",
        "needling_authorisation_expires_on",
        "licences",
        "is_active",
    )
    list_filter = ("is_active", "profession", "registration_status", "locations")
    prepopulated_fields = {"slug": ("first_name", "last_name")}
    filter_horizontal = ("locations",)
    fieldsets = (
        (
            None,
            {"fields": ("first_name", "last_name", "title", "slug", "user", "is_active", "order")},
        ),
        (
            _("Registration"),
            {
                "fields": (
                    "profession",
                    "registration_body",
                    "registration_number",
                    "registration_status",
                    "registration_expires_on",
                )
            },
        ),
        (
            _("Gunn IMS credential"),
            {
                "fields": (
                    "ims_certification_issuer",
                    "ims_certified_on",
                    "ims_certification_expires_on",
                    "ims_practice_since",
                )
            },
        ),
        (
            _("Needling authorisation"),
            {
                "description": _(
                    "Needed to give IMS at a location whose province requires a separate "
                    "authorisation (Alberta), or where you ticked that it does."
                ),
                "fields": (
                    "needling_authorisation_body",
                    "needling_authorisation_number",
                    "needling_authorised_on",
                    "needling_authorisation_expires_on",
                ),
            },
        ),
        (_("Public profile"), {"fields": ("bio", "locations")}),
    )
    raw_id_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Practitioner]:
        return super().get_queryset(request).prefetch_related("locations")

    @admin.display(description=_("licences today"))
    def licences(self, obj: Practitioner) -> str:
        return licences_today(obj, timezone.localdate())

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Practitioner | None = None,
    ) -> HttpResponse:
        if (
            request.method == "GET"
            and obj is not None
            and registration_expiry_unknown(obj.licences)
        ):
            messages.warning(
                request,
                _(
                    "No registration expiry is recorded for %(name)s. They can still be booked, "
                    "but no reminder can be sent before the registration lapses: add the date "
                    "from the college's register."
                )
                % {"name": obj.display_name},
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(LicenceReminder, site=owner_site)
class LicenceReminderAdmin(OwnerModelAdmin):
    """What expiry reminders were emailed, for the owner to look back on; written by the
    daily task only."""

    list_display = ("practitioner", "licence", "expires_on", "days_before", "sent_at")
    list_filter = ("licence", "days_before")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service, site=owner_site)
class ServiceAdmin(OwnerModelAdmin):
    list_display = (
        "name",
        "duration_minutes",
        "buffer_minutes",
        "price",
        "requires_ims_credential",
        "bookable_online",
        "for_new_patients",
        "is_active",
    )
    prepopulated_fields = {"slug": ("name",)}
