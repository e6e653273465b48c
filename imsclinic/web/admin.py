"""The owner edits the public site's questions and answers on the clinic-settings site."""

from __future__ import annotations

from django.contrib import admin

from imsclinic.clinic.admin import OwnerModelAdmin, owner_site
from imsclinic.web.models import FaqEntry


@admin.register(FaqEntry, site=owner_site)
class FaqEntryAdmin(OwnerModelAdmin):
    list_display = ("question", "order", "is_published")
    list_editable = ("order", "is_published")
