"""The owner edits the muscle catalogue and the infection-control protocol at /manage/."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from imsclinic.charting.models import InfectionControlStep, Muscle, body_ordering
from imsclinic.clinic.admin import OwnerModelAdmin, owner_site


@admin.register(Muscle, site=owner_site)
class MuscleAdmin(OwnerModelAdmin):
    list_display = (
        "name",
        "region",
        "view",
        "root_label",
        "nerve",
        "thoracic_precaution",
        "is_active",
    )
    list_editable = ("is_active",)
    list_filter = ("region", "view", "thoracic_precaution", "is_paraspinal", "is_active")
    search_fields = ("name", "code", "nerve")
    fieldsets = (
        (None, {"fields": ("code", "name", "region", "view", "is_active")}),
        (_("Roots"), {"fields": ("root_from", "root_to", "nerve", "is_paraspinal", "level")}),
        (_("Caution"), {"fields": ("thoracic_precaution", "note")}),
    )

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        # Listed as every page lists muscles: region head to foot, roots down the spine.
        return body_ordering()

    @admin.display(description=_("roots"))
    def root_label(self, obj: Muscle) -> str:
        return obj.root_label

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Charts point at the code's muscle: once it exists, the code stays.
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Signed notes refer to catalogue muscles: switch one off instead of deleting it.
        return False


@admin.register(InfectionControlStep, site=owner_site)
class InfectionControlStepAdmin(OwnerModelAdmin):
    """The steps every needling note confirms before it is signed, in the clinic's words.

    Signed notes keep the words they confirmed, so a step may be rewritten, switched off
    or deleted without changing any of them.
    """

    list_display = ("text", "order", "is_active")
    list_editable = ("order", "is_active")
    ordering = ("order", "pk")
