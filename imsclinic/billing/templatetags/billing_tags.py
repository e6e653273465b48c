"""Billing pieces other apps' staff pages show: a patient's balance, the calendar's balances
and check-out links. Only those who keep accounts (`billing.view_account`) see any of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import rules
from django import template
from django.template.loader import get_template

from imsclinic.billing.money import to_cents
from imsclinic.billing.selectors import dues_for, patient_account, visits_paid
from imsclinic.billing.views.checkout import CHECKOUT_STATUSES
from imsclinic.patients.models import Patient

register = template.Library()


def _may(context: Any, perm: str) -> bool:
    """Ask the permission rules themselves (`rules.has_perm`), not `user.has_perm`.

    A refusal from `user.has_perm` goes on to Django's model backend, which reads the user's
    permission tables: two more queries on every page of a practitioner.
    """
    user = getattr(context.get("request"), "user", None)
    return user is not None and rules.has_perm(perm, user)


def _keeps_accounts(context: Any) -> bool:
    return _may(context, "billing.view_account")


@register.inclusion_tag("billing/_staff_card.html", takes_context=True)
def billing_staff_card(context: template.Context, patient: Patient) -> dict[str, Any]:
    """Show the patient's balance and a link to their account, to the front desk and owner."""
    if not _keeps_accounts(context):
        return {"shown": False}
    return {"shown": True, "patient": patient, "account": patient_account(patient)}


def _visits_in(shown: Any) -> Iterable[Any]:
    """Yield the visits of a calendar: a list of visits, a week's rows, or a day's groups."""
    for item in shown or ():
        if hasattr(item, "cells"):
            for cell in item.cells:
                yield from getattr(cell, "visits", ()) or ()
        elif hasattr(item, "visits"):
            yield from item.visits
        else:
            yield item


class Balances(dict[int, Decimal]):
    """What each patient owes themselves, by id, and the visits on the page issued and paid."""

    settled: frozenset[int] = frozenset()


@register.simple_tag(takes_context=True)
def billing_balances(context: template.Context, shown: Any) -> dict[int, Decimal] | None:
    """Return what every patient named on a calendar page owes the clinic themselves.

    That is their balance less what their insurers and third parties owe: the desk asks the
    patient for this, never for a payer's share. One set of queries for the whole page; None
    for those who do not keep accounts (the calendar then shows no money at all). Where
    visits are due a check-out, one more query finds those already issued and paid.
    """
    if not _keeps_accounts(context):
        return None
    visits = [visit for visit in _visits_in(shown) if getattr(visit, "shows_patient", False)]
    dues = dues_for({visit.appointment.patient_id for visit in visits})
    balances = Balances({pk: owed.patient_owes for pk, owed in dues.items()})
    due = [v.appointment.pk for v in visits if v.appointment.status in CHECKOUT_STATUSES]
    if due:
        balances.settled = visits_paid(due)
    return balances


@register.simple_tag
def billing_visit_money(visit: Any, balances: Any) -> str:
    """Show what a visit's patient owes (or holds in credit) when not zero, and check-out.

    Most visits on a calendar have neither, and a calendar shows hundreds: those render
    nothing rather than an empty template each.
    """
    # A page that did not ask for balances passes nothing (an empty string, to a template).
    if not isinstance(balances, Mapping) or not getattr(visit, "shows_patient", False):
        return ""
    appointment = visit.appointment
    balance = balances.get(appointment.patient_id) or None
    check_out = appointment.status in CHECKOUT_STATUSES
    paid = check_out and appointment.pk in getattr(balances, "settled", ())
    if balance is None and not check_out:
        return ""
    return get_template("billing/_visit_money.html").render(
        {
            "shown": True,
            "visit": visit,
            "balance": balance,
            "check_out": check_out and not paid,
            "paid": paid,
        }
    )


@register.filter
def absolute(value: Decimal) -> Decimal:
    return abs(value)


@register.filter
def cents(value: Any) -> str:
    """Show an amount to the cent (sums from the database may come back as "35" or "35.0")."""
    if value is None or value == "":
        return ""
    return f"{to_cents(Decimal(value)):.2f}"


@register.inclusion_tag("billing/_nav.html", takes_context=True)
def billing_nav(context: Mapping[str, Any]) -> dict[str, Any]:
    """Link billing in the staff navigation: the accounts for the desk, a practitioner's sales."""
    request = context.get("request")
    here = getattr(getattr(request, "resolver_match", None), "url_name", "") or ""
    owner = bool(getattr(getattr(request, "user", None), "is_owner", False))
    return {
        "accounts": _keeps_accounts(context),
        "own_sales": not owner and _may(context, "billing.view_own_sales"),
        "in_billing": here.startswith("billing_") and not here.startswith("billing_report"),
        "here": here,
    }
