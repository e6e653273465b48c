from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "imsclinic.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from imsclinic.charting.signals import note_signed
        from imsclinic.outcomes.receivers import results_from_signed_note

        note_signed.connect(results_from_signed_note, dispatch_uid="outcomes_results_from_note")
