"""Outcome results and measure plans.

Besides the tables, the database itself guards the results: the answers must be a JSON
list, and (PostgreSQL) a result is never deleted and never updated except to strike it out
once (the void fields set from empty). SQLite gets the list check but no trigger: Django's
test flush deletes rows there one by one, and production runs on PostgreSQL.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRES_FORWARD = [
    """ALTER TABLE outcomes_outcomeresult ADD CONSTRAINT outcomes_result_answers_list
        CHECK (jsonb_typeof(answers) = 'array')""",
    """ALTER TABLE outcomes_outcomeresult ADD CONSTRAINT outcomes_result_labels_list
        CHECK (jsonb_typeof(labels) = 'array')""",
    """CREATE OR REPLACE FUNCTION outcomes_result_final() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'outcomes_result_final: an outcome result cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.voided_at IS NULL AND NEW.voided_at IS NOT NULL
        AND (to_jsonb(NEW) - 'voided_at' - 'voided_by_id' - 'void_reason')
            = (to_jsonb(OLD) - 'voided_at' - 'voided_by_id' - 'void_reason') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'outcomes_result_final: an outcome result can only be struck out'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER outcomes_outcomeresult_final
        BEFORE UPDATE OR DELETE ON outcomes_outcomeresult
        FOR EACH ROW EXECUTE FUNCTION outcomes_result_final()""",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS outcomes_outcomeresult_final ON outcomes_outcomeresult",
    "DROP FUNCTION IF EXISTS outcomes_result_final()",
    "ALTER TABLE outcomes_outcomeresult DROP CONSTRAINT IF EXISTS outcomes_result_labels_list",
    "ALTER TABLE outcomes_outcomeresult DROP CONSTRAINT IF EXISTS outcomes_result_answers_list",
]


def guard_forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Add the list checks and the never-changed trigger (PostgreSQL only)."""
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def guard_backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Drop what guard_forward added."""
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("charting", "0003_signed_notes_locked"),
        ("patients", "0001_initial"),
        ("scheduling", "0005_busy_until_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MeasurePlan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "region_instrument",
                    models.CharField(
                        blank=True, max_length=12, verbose_name="body-region questionnaire"
                    ),
                ),
                (
                    "psfs_activities",
                    models.JSONField(blank=True, default=list, verbose_name="activities (PSFS)"),
                ),
                (
                    "every_visits",
                    models.PositiveSmallIntegerField(
                        default=3, verbose_name="repeat every (visits)"
                    ),
                ),
                (
                    "set_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="set at"),
                ),
                (
                    "assessment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_plans",
                        to="charting.assessment",
                        verbose_name="assessment",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_plans",
                        to="patients.patient",
                    ),
                ),
                (
                    "set_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "measure plan",
                "verbose_name_plural": "measure plans",
                "ordering": ("-set_at", "-pk"),
                "get_latest_by": ("set_at", "pk"),
                "indexes": [
                    models.Index(
                        fields=["patient", "-set_at"], name="outcomes_me_patient_a81af0_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("region_instrument__in", ("", "ODI", "NDI", "QuickDASH", "LEFS"))
                        ),
                        name="outcomes_plan_known_region_instrument",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("every_visits__gte", 1), ("every_visits__lte", 20)),
                        name="outcomes_plan_every_1_20",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="OutcomeResult",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instrument", models.CharField(max_length=12, verbose_name="questionnaire")),
                ("instrument_version", models.CharField(max_length=40, verbose_name="version")),
                ("answers", models.JSONField(verbose_name="answers")),
                ("labels", models.JSONField(blank=True, default=list, verbose_name="activities")),
                (
                    "score",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=6, null=True, verbose_name="score"
                    ),
                ),
                (
                    "not_scored_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="why not scored"),
                ),
                ("answered", models.PositiveSmallIntegerField(verbose_name="items answered")),
                (
                    "timing",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("before", "Before needling"),
                            ("after", "After needling"),
                            ("", "Not tied to needling"),
                        ],
                        default="",
                        max_length=6,
                        verbose_name="timing",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("session_note", "Session note"),
                            ("portal", "Patient portal"),
                            ("paper", "Paper form"),
                            ("api", "API"),
                        ],
                        max_length=12,
                        verbose_name="source",
                    ),
                ),
                ("taken_at", models.DateTimeField(verbose_name="answered at")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="recorded at")),
                (
                    "voided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="struck out at"),
                ),
                (
                    "void_reason",
                    models.CharField(blank=True, max_length=240, verbose_name="why struck out"),
                ),
                (
                    "appointment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_results",
                        to="scheduling.appointment",
                        verbose_name="visit",
                    ),
                ),
                (
                    "patient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_results",
                        to="patients.patient",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="outcome_results",
                        to="charting.needlingsession",
                        verbose_name="needling session",
                    ),
                ),
                (
                    "voided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="struck out by",
                    ),
                ),
            ],
            options={
                "verbose_name": "outcome result",
                "verbose_name_plural": "outcome results",
                "ordering": ("taken_at", "pk"),
                "indexes": [
                    models.Index(
                        fields=["patient", "instrument", "taken_at"],
                        name="outcomes_ou_patient_94c3a2_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("instrument__in", ("NPRS", "PSFS", "ODI", "NDI", "QuickDASH", "LEFS"))
                        ),
                        name="outcomes_result_known_instrument",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("score__isnull", True),
                            models.Q(("score__gte", 0), ("score__lte", 100)),
                            _connector="OR",
                        ),
                        name="outcomes_result_score_0_100",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("void_reason", ""),
                                ("voided_at__isnull", True),
                                ("voided_by__isnull", True),
                            ),
                            models.Q(
                                ("voided_at__isnull", False),
                                ("voided_by__isnull", False),
                                models.Q(("void_reason", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="outcomes_result_void_all_or_nothing",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("timing__in", ["before", "after", ""])),
                        name="outcomes_result_known_timing",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("source__in", ["session_note", "portal", "paper", "api"])
                        ),
                        name="outcomes_result_known_source",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("session__isnull", False)),
                        fields=("session", "instrument", "timing"),
                        name="outcomes_result_once_per_session",
                    ),
                ],
            },
        ),
        migrations.RunPython(guard_forward, guard_backward),
    ]
