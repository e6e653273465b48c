"""The roles a signed-in person has: one per account, stored on `accounts.User.role`.

They live in core because the permission rules (`core.permissions`) and the audit log (which
records the role a person had at the time) are written in terms of them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    FRONT_DESK = "front_desk", _("Front desk")
    PRACTITIONER = "practitioner", _("Practitioner")
    OWNER = "owner", _("Owner")


STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.PRACTITIONER, Role.OWNER})
