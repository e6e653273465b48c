from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "imsclinic.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from imsclinic.charting.models import NeedlingSession
        from imsclinic.charting.signals import measures_due_asked, note_signed
        from imsclinic.outcomes import receivers
        from imsclinic.scheduling.signals import reminder_composing

        # Needling notes only: they hold the pain before and after.
        note_signed.connect(
            receivers.results_from_signed_note,
            sender=NeedlingSession,
            dispatch_uid="outcomes_results_from_note",
        )
        measures_due_asked.connect(
            receivers.measures_due_names, dispatch_uid="outcomes_measures_due_names"
        )
        reminder_composing.connect(
            receivers.reminder_measures_link, dispatch_uid="outcomes_reminder_measures_link"
        )
