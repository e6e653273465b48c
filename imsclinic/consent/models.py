"""Informed consent: the clinic's documents, their frozen versions, and patients' signatures.

A published version never changes (the services refuse, and database triggers refuse too);
a signature keeps the exact text the signer saw and its SHA-256, and is never edited except
to record its withdrawal, once.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Large enough for a hand-drawn signature as a PNG data URL or SVG path data from a phone.
DRAWN_SIGNATURE_MAX_CHARS = 200_000


def text_sha256(text: str) -> str:
    """Return the hex SHA-256 of the text encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The longest texts consent records hold, declared once: the model fields, the forms and
# the services' checks use these.
TITLE_MAX = 200  # a document's and a version's title
BODY_MAX = 50_000  # a version's text
SIGNER_NAME_MAX = 200
GUARDIAN_RELATIONSHIP_MAX = 100
USER_AGENT_MAX = 500  # the signing browser's User-Agent, cut to this
WITHDRAWAL_REASON_MAX = 2000


class ConsentDocument(models.Model):
    """A consent form the clinic keeps; one of them is the consent to needling."""

    slug = models.SlugField(_("short name"), unique=True)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    for_needling = models.BooleanField(
        _("consent to needling"),
        default=False,
        help_text=_("Patients must have signed the latest version before they are needled."),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-for_needling", "title", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("for_needling",),
                condition=Q(for_needling=True),
                name="consent_one_needling_document",
            )
        ]

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ConsentVersion(models.Model):
    """One text of a document: a draft being written, or a published, frozen version."""

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    # Drafts have no number yet: publishing gives the next one.
    number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    body = models.TextField(
        _("text"),
        max_length=BODY_MAX,
        help_text=_("Plain text. Leave a blank line between paragraphs."),
    )
    body_sha256 = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("document", "-number", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("document", "number"), name="consent_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=("document",),
                condition=Q(status="draft"),
                name="consent_one_draft_per_document",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="draft", number__isnull=True, published_at__isnull=True)
                    | Q(status="published", number__gte=1, published_at__isnull=False)
                ),
                name="consent_version_published_has_number",
            ),
        ]

    def __str__(self) -> str:
        if self.number is None:
            return f"{self.document} (draft)"
        return f"{self.document} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def text_as_shown(self) -> str:
        """Return the text a signer sees: the title, a blank line, then the body."""
        return f"{self.title}\n\n{self.body}"


class Signer(models.TextChoices):
    SELF = "self", _("The patient")
    GUARDIAN = "guardian", _("A parent, guardian or substitute decision-maker")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Patient portal")
    TABLET = "tablet", _("Clinic tablet")


class ConsentSignature(models.Model):
    """A patient's (or guardian's) agreement to one published version, exactly as shown."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="consent_signatures"
    )
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="signatures")
    text_shown = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    signer = models.CharField(max_length=10, choices=Signer.choices, default=Signer.SELF)
    signer_name = models.CharField(_("full name"), max_length=SIGNER_NAME_MAX)
    guardian_relationship = models.CharField(
        _("relationship to the patient"), max_length=GUARDIAN_RELATIONSHIP_MAX, blank=True
    )
    agreed = models.BooleanField()
    drawn_signature = models.TextField(blank=True)
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    signed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawal_reason = models.TextField(max_length=WITHDRAWAL_REASON_MAX, blank=True)
    copy_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set on the first signature a withdrawal covered once its notices have gone.
    withdrawal_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-signed_at", "-pk")
        constraints = [
            models.CheckConstraint(condition=Q(agreed=True), name="consent_signature_agreed"),
            models.CheckConstraint(condition=~Q(signer_name=""), name="consent_signature_has_name"),
            models.CheckConstraint(
                condition=Q(signer="self") | ~Q(guardian_relationship=""),
                name="consent_guardian_has_relationship",
            ),
            # One standing signature per patient and version; after a withdrawal, a new one.
            models.UniqueConstraint(
                fields=("patient", "version"),
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_standing_signature",
            ),
        ]
        indexes = [models.Index(fields=("patient", "-signed_at"))]

    def __str__(self) -> str:
        return f"{self.signer_name} - {self.version}"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None
