"""A needling row as the read-only note and the chart show it, built once per row.

A chart of sixty sessions shows some two hundred and forty rows; written out in the template,
each row's translated words and labels cost a dozen node renders. The tag writes the same
markup directly.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.simple_tag
def needling_row(row: Any) -> SafeString:
    """One row of the "Muscles needled" table: muscle, side, segment, needle and response."""
    muscle = row.muscle
    precaution = ""
    if muscle.thoracic_precaution:
        precaution = format_html(
            ' <span class="precaution-tag" title="{}"><span aria-hidden="true">⚠</span>'
            '<span class="visually-hidden">{}</span></span>',
            gettext("Thoracic precaution"),
            gettext("thoracic precaution"),
        )
    note = format_html('<br><span class="small">{}</span>', row.note) if row.note else ""
    yes, no = gettext("Yes"), gettext("No")
    lot = row.needle_lot
    needles = ngettext("%(n)s needle", "%(n)s needles", row.needles_used) % {"n": row.needles_used}
    return format_html(
        "<tr>\n    <td>{}{}{}</td>\n"
        "    <td>{}</td><td>{}</td><td>{}</td>\n"
        '    <td>{}<br><span class="small">{} {} · {}</span></td>\n'
        "    <td>{}</td><td>{}</td><td>{}</td><td>{}</td>\n  </tr>",
        muscle.name,
        precaution,
        note,
        row.get_side_display(),
        row.segment,
        row.insertions,
        lot.size_label,
        gettext("lot"),
        lot.lot_number,
        needles,
        row.get_grasp_display(),
        yes if row.release else no,
        yes if row.twitch else no,
        row.get_tolerance_display(),
    )
