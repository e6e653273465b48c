"""A calendar visit's badges and buttons, built once per visit rather than by an include.

The calendars show dozens to hundreds of visits a page; each `{% include %}` of a small
template costs a context push and a render of its own nodes, which made up most of a day
page's time. These tags write the same markup directly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext

register = template.Library()


@register.simple_tag
def visit_badges(visit: Any) -> SafeString:
    """Show a visit's status, then what waits on it (the review badge).

    They wrap inside the visit, never past it; the week shows the review badge's short word
    (the whole words stay for screen readers).
    """
    appointment = visit.appointment
    badges = format_html(
        '<span class="cal-badge cal-status cal-status-{}"><span aria-hidden="true">{}</span> '
        "{}</span>",
        appointment.status,
        visit.status_icon,
        appointment.status_text,
    )
    if visit.needs_review:
        long = gettext("Needs practitioner review")
        badges += format_html(
            ' <span class="cal-badge cal-review" title="{}"><span aria-hidden="true">⚠</span> '
            '<span class="cal-badge-long">{}</span><span class="cal-badge-short" '
            'aria-hidden="true">{}</span></span>',
            long,
            long,
            pgettext("badge: needs practitioner review", "Review"),
        )
    return format_html('<span class="cal-badges">{}</span>', badges)


@register.simple_tag
def visit_summary(visit: Any) -> SafeString:
    """Show a visit's time, whose it is (or busy time), its service and bed, and its badges."""
    appointment = visit.appointment
    if not visit.shows_patient:
        who = format_html('<p class="cal-visit-patient">{}</p>', gettext("Busy"))
    elif visit.patient_link:
        who = format_html(
            '<p class="cal-visit-patient"><a href="{}">{}</a></p>',
            reverse("patient_detail", args=[appointment.patient_id]),
            appointment.patient.display_name,
        )
    else:
        who = format_html('<p class="cal-visit-patient">{}</p>', appointment.patient.display_name)
    room = appointment.room
    return format_html(
        '<p class="cal-visit-time">{}</p>\n{}\n<p class="cal-visit-service">{}{}</p>\n<p>{}</p>\n',
        visit.time_label,
        who,
        appointment.service.name,
        format_html(" · {}", room.name) if room else "",
        visit_badges(visit),
    )


@register.simple_tag
def week_visit(visit: Any) -> SafeString:
    """Show a visit in the week: its start, whose it is (or busy time and where), its badges."""
    appointment = visit.appointment
    cancelled = visit.is_cancelled
    if visit.shows_patient:
        who = appointment.patient.display_name
        shown = format_html("<del>{}</del>", who) if cancelled else format_html("{}", who)
    else:
        busy = gettext("Busy")
        room = appointment.room
        shown = format_html(
            "{}: {}{}",
            format_html("<del>{}</del>", busy) if cancelled else busy,
            appointment.service.name,
            format_html(" · {}", room.name) if room else "",
        )
    return format_html("{} {} {}", visit.start_label, shown, visit_badges(visit))


def _csrf_input(context: template.Context) -> SafeString:
    """Return the hidden CSRF field, as `{% csrf_token %}` writes it."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return SafeString("")
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


@register.simple_tag(takes_context=True)
def visit_actions(context: template.Context, visit: Any, next_url: str = "") -> SafeString:
    """Show the visit's note link, status buttons and cancel link that this user may use."""
    if not (visit.actions or visit.can_cancel or visit.note_link):
        return SafeString("")
    appointment = visit.appointment
    names = {"name": appointment.patient.display_name, "time": visit.start_label}
    parts: list[SafeString] = []
    if visit.note_link:
        if appointment.service.requires_ims_credential:
            url, label = reverse("session_note", args=[visit.pk]), gettext("Needling note")
            aria = gettext("Needling note: %(name)s at %(time)s") % names
        else:
            url, label = reverse("physio_note", args=[visit.pk]), gettext("Physiotherapy note")
            aria = gettext("Physiotherapy note: %(name)s at %(time)s") % names
        parts.append(
            format_html('<a href="{}" class="cal-note" aria-label="{}">{}</a>', url, aria, label)
        )
    if visit.actions:
        status_url = reverse("appointment_status", args=[visit.pk])
        csrf = _csrf_input(context)
        parts.append(
            format_html_join(
                "\n",
                '<form method="post" action="{}" class="inline-form">{}'
                '<input type="hidden" name="status" value="{}">'
                '<input type="hidden" name="next" value="{}">'
                '<button type="submit" class="outline" aria-label="{}">{}</button></form>',
                (
                    (
                        status_url,
                        csrf,
                        action.status,
                        next_url,
                        gettext("%(label)s: %(name)s at %(time)s")
                        % {"label": action.label, **names},
                        action.label,
                    )
                    for action in visit.actions
                ),
            )
        )
    if visit.can_cancel:
        parts.append(
            format_html(
                '<a href="{}?next={}" class="cal-cancel" aria-label="{}">{}</a>',
                reverse("appointment_cancel_staff", args=[visit.pk]),
                quote(next_url or "", safe="/"),
                gettext("Cancel: %(name)s at %(time)s") % names,
                gettext("Cancel…"),
            )
        )
    return format_html(
        '<div class="cal-actions">\n{}\n</div>',
        format_html_join("\n", "{}", ((part,) for part in parts)),
    )
