"""The clinic's infection-control protocol, and what each needling note confirmed of it.

Creates the owner's list of protocol steps, seeded with a starting protocol in the clinic's
own words (the owner rewrites, reorders or switches steps off at /manage/), and the
per-note record: the steps' words as confirmed, the sharps container, who and when.

On PostgreSQL the record gets the same trigger as a note's rows (migration 0003): once its
note is signed it is never inserted, updated or deleted. Notes signed before this migration
have no record and keep verifying: nothing here touches the notes' table.
"""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


STARTING_PROTOCOL = (
    "Point-of-care risk assessment done: the patient, the skin to be needled and the room "
    "checked for anything that raises the risk of infection.",
    "Hands cleaned before touching the patient and again after needling.",
    "Skin at each needling site visibly clean, and cleansed where the clinic's protocol "
    "asks for it.",
    "Only sterile, single-use needles, each from an intact pack within its expiry date.",
    "No needle re-inserted once it had left the skin, and none used on another patient.",
    "Each used needle put straight into the sharps container, never recapped or set down.",
)


def seed_protocol(apps, schema_editor):
    step = apps.get_model("charting", "InfectionControlStep")
    if step.objects.exists():
        return
    step.objects.bulk_create(
        step(text=text, order=10 * (index + 1)) for index, text in enumerate(STARTING_PROTOCOL)
    )


TRIGGER = """CREATE TRIGGER charting_infectioncontrolrecord_locked
    BEFORE INSERT OR UPDATE OR DELETE ON charting_infectioncontrolrecord
    FOR EACH ROW EXECUTE FUNCTION
    charting_signed_part_locked('charting_needlingsession', 'session_id')"""
DROP_TRIGGER = (
    "DROP TRIGGER IF EXISTS charting_infectioncontrolrecord_locked "
    "ON charting_infectioncontrolrecord"
)


def _on_postgres(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('charting', '0008_chest_wall_technique_and_slim_build'),
        ('clinic', '0010_recall_reason_limit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='InfectionControlStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.CharField(max_length=240, verbose_name='step')),
                ('order', models.PositiveSmallIntegerField(default=0, verbose_name='order')),
                ('is_active', models.BooleanField(default=True, help_text='Switch a step off to stop asking it; notes that confirmed it keep it.', verbose_name='asked on needling notes')),
            ],
            options={
                'verbose_name': 'infection-control step',
                'verbose_name_plural': 'infection-control protocol',
                'ordering': ('order', 'pk'),
            },
        ),
        migrations.CreateModel(
            name='HistoricalInfectionControlRecord',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('steps', models.JSONField(default=list, verbose_name='steps confirmed')),
                ('note', models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(1000)], verbose_name='infection-control note')),
                ('confirmed_at', models.DateTimeField(verbose_name='confirmed at')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('confirmed_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='confirmed by')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='charting.needlingsession')),
                ('sharps_container', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='clinic.sharpscontainer', verbose_name='sharps container')),
            ],
            options={
                'verbose_name': 'historical infection-control record',
                'verbose_name_plural': 'historical infection-control records',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='InfectionControlRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('steps', models.JSONField(default=list, verbose_name='steps confirmed')),
                ('note', models.TextField(blank=True, validators=[django.core.validators.MaxLengthValidator(1000)], verbose_name='infection-control note')),
                ('confirmed_at', models.DateTimeField(verbose_name='confirmed at')),
                ('confirmed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='confirmed by')),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='infection_control', to='charting.needlingsession')),
                ('sharps_container', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='infection_control_records', to='clinic.sharpscontainer', verbose_name='sharps container')),
            ],
            options={
                'verbose_name': 'infection-control record',
                'verbose_name_plural': 'infection-control records',
            },
        ),
        migrations.RunPython(seed_protocol, migrations.RunPython.noop),
        migrations.RunPython(_on_postgres(TRIGGER), _on_postgres(DROP_TRIGGER)),
    ]
