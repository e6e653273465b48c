"""The clinic outcomes report for the owner: MCID by session, follow-up and adverse events."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.followup.selectors import answer_hours, followup_stats
from imsclinic.outcomes.progress import points_text
from imsclinic.outcomes.report import MILESTONES, followup_rates, mcid_table
from imsclinic.outcomes.selectors import clinic_courses
from imsclinic.safety import ae_rates
from imsclinic.safety.forms import ReportPeriodForm
from imsclinic.safety.models import AdverseEventType, Severity
from imsclinic.safety.selectors import adverse_event_counts


@login_required
@require_GET
def outcomes_report(request: SignedInRequest) -> HttpResponse:
    """Show who reached a clinically important change by session 3, 6 and 10, and safety rates."""
    require_perm(request, "outcomes.view_report", object_type=ObjectType.OUTCOMES_REPORT)
    form = ReportPeriodForm(request.GET or None)
    since = until = None
    if form.is_bound and form.is_valid():
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    rows = mcid_table(clinic_courses(), since=since, until=until, zone=clinic_zone())
    stats = followup_stats(since=since, until=until)
    followup = followup_rates(
        sent=stats.sent,
        answered=stats.answered,
        answered_in_time=stats.answered_in_time,
        bruising=stats.bruising_reported,
        bruising_answered=stats.bruising_answered,
        red_flags=stats.red_flags,
        soreness=stats.soreness_reported,
    )
    counts = adverse_event_counts(since=since, until=until)
    charts = ae_rates.build_report(
        sessions=counts.sessions,
        sessions_with_event=counts.sessions_with_event,
        by_severity=counts.by_severity,
        by_type=counts.by_type,
        severities=Severity.values,
        types=AdverseEventType.values,
    )
    by_type = {line.key: line for line in charts.by_type}
    by_severity = {line.key: line for line in charts.by_severity}
    audit_view(
        request,
        ObjectType.OUTCOMES_REPORT,
        detail={
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
    )
    return render(
        request,
        "outcomes/report.html",
        {
            "form": form,
            "rows": [{"row": row, "mcid": points_text(row.instrument.mcid)} for row in rows],
            "milestones": MILESTONES,
            "followup": followup,
            "answer_hours": answer_hours(),
            "charts": charts,
            "chart_bruising": by_type.get("bruising"),
            "chart_mild": by_severity.get("mild"),
            "chart_major": [by_severity.get("significant"), by_severity.get("serious")],
            "brady": ae_rates.BRADY_2014,
            "boyce": ae_rates.BOYCE_2020,
            "brady_bruising": ae_rates.PUBLISHED_BY_TYPE["brady_2014"]["bruising"],
            "boyce_bruising": ae_rates.PUBLISHED_BY_TYPE["boyce_2020"]["bruising"],
            "brady_mild": ae_rates.PUBLISHED_MILD["brady_2014"],
            "boyce_mild": ae_rates.PUBLISHED_MILD["boyce_2020"],
            "brady_upper_bound": ae_rates.BRADY_SIGNIFICANT_UPPER_BOUND,
            "boyce_major": ae_rates.percent(
                ae_rates.BOYCE_MAJOR_EVENTS, ae_rates.BOYCE_2020.denominator
            ),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
