"""Content the owner edits for the public site."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FaqEntry(models.Model):
    question = models.CharField(_("question"), max_length=200)
    answer = models.TextField(
        _("answer"), help_text=_("Plain text; a blank line starts a new paragraph.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ("order", "pk")
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question
