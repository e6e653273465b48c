"""The licences that gate needling: registration status and expiry, the needling
authorisation, where a location requires one, and the record of expiry reminders sent.

Every new column is nullable or has a default (ALTER TABLE ADD COLUMN): existing
practitioners stay practising with no registration expiry recorded, so they stay bookable.
The check constraint rebuilds clinic_practitioner on SQLite; no trigger lives on that table
(the append-only and locked-note triggers are on core, charting, scheduling, consent and
outcomes tables), so none is lost.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0010_recall_reason_limit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='LicenceReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('licence', models.CharField(choices=[('registration', 'college registration'), ('ims_certificate', 'IMS certificate'), ('needling_authorisation', 'needling authorisation')], max_length=30, verbose_name='licence')),
                ('expires_on', models.DateField(verbose_name='expires on')),
                ('days_before', models.PositiveSmallIntegerField(verbose_name='days before expiry')),
                ('sent_at', models.DateTimeField(verbose_name='sent at')),
            ],
            options={
                'verbose_name': 'licence expiry reminder',
                'verbose_name_plural': 'licence expiry reminders',
                'ordering': ('-sent_at', '-pk'),
            },
        ),
        migrations.AddField(
            model_name='location',
            name='requires_needling_authorisation',
            field=models.BooleanField(default=False, help_text="Tick when the province's college requires an authorisation to needle on top of registration. Alberta locations always require it (Physiotherapy Alberta), ticked or not. Practitioners without a current authorisation are then not booked for IMS here.", verbose_name='needling needs a separate authorisation here'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='needling_authorisation_body',
            field=models.CharField(blank=True, help_text='Only where the province requires a separate authorisation to needle, e.g. Physiotherapy Alberta.', max_length=160, verbose_name='needling authorised by'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='needling_authorisation_expires_on',
            field=models.DateField(blank=True, help_text='No IMS visits on or after this day where the authorisation is needed. Leave empty if it lasts as long as the registration.', null=True, verbose_name='needling authorisation expires on'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='needling_authorisation_number',
            field=models.CharField(blank=True, max_length=60, verbose_name='authorisation number or reference'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='needling_authorised_on',
            field=models.DateField(blank=True, null=True, verbose_name='needling authorised on'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='registration_expires_on',
            field=models.DateField(blank=True, help_text='The day the registration ends unless renewed: no IMS visits on or after it. Leave empty only if you do not know it yet; these settings warn until it is filled in.', null=True, verbose_name='registration expires on'),
        ),
        migrations.AddField(
            model_name='practitioner',
            name='registration_status',
            field=models.CharField(choices=[('practising', 'Practising'), ('non_practising', 'Non-practising'), ('suspended', 'Suspended'), ('lapsed', 'Lapsed')], default='practising', help_text="As the college's public register shows it. Only practising may needle.", max_length=20, verbose_name='registration status'),
        ),
        migrations.AlterField(
            model_name='practitioner',
            name='registration_body',
            field=models.CharField(help_text='The college the practitioner is registered with.', max_length=160, verbose_name='registration body'),
        ),
        migrations.AddConstraint(
            model_name='practitioner',
            constraint=models.CheckConstraint(condition=models.Q(('needling_authorisation_expires_on__isnull', True), ('needling_authorised_on__isnull', True), ('needling_authorisation_expires_on__gt', models.F('needling_authorised_on')), _connector='OR'), name='needling_authorisation_expiry_after_grant'),
        ),
        migrations.AddField(
            model_name='licencereminder',
            name='practitioner',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='licence_reminders', to='clinic.practitioner'),
        ),
        migrations.AddConstraint(
            model_name='licencereminder',
            constraint=models.UniqueConstraint(fields=('practitioner', 'licence', 'expires_on', 'days_before'), name='licence_reminder_once'),
        ),
    ]
