"""The owner sets billing's configuration on the clinic-settings site (/manage/): prices per
location, tax rates per item type, products, late-cancellation and no-show fees, the payers
the clinic bills and how each practitioner is paid. Money itself (invoices, payments) is
never edited here: it changes only through billing's services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from imsclinic.billing.models import (
    CancellationFeePolicy,
    Compensation,
    Payer,
    Product,
    ServiceFee,
    TaxRate,
)
from imsclinic.clinic.admin import OwnerModelAdmin, owner_site


@admin.register(TaxRate, site=owner_site)
class TaxRateAdmin(OwnerModelAdmin):
    list_display = ("location", "item_kind", "name", "rate_percent")
    list_filter = ("location", "item_kind")


@admin.register(ServiceFee, site=owner_site)
class ServiceFeeAdmin(OwnerModelAdmin):
    list_display = ("service", "location", "price")
    list_filter = ("location", "service")


@admin.register(Product, site=owner_site)
class ProductAdmin(OwnerModelAdmin):
    list_display = ("name", "code", "price", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")


@admin.register(CancellationFeePolicy, site=owner_site)
class CancellationFeePolicyAdmin(OwnerModelAdmin):
    list_display = ("service", "event", "amount", "share_percent")
    list_filter = ("event",)


@admin.register(Payer, site=owner_site)
class PayerAdmin(OwnerModelAdmin):
    list_display = ("name", "kind", "phone", "email", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A payer with a policy, claim or payment stays on record; untick "in use" instead.
        return False


@admin.register(Compensation, site=owner_site)
class CompensationAdmin(OwnerModelAdmin):
    list_display = ("practitioner", "kind", "share_percent", "per_visit")
