from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "imsclinic.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from imsclinic.outcomes import receivers
        from imsclinic.scheduling.signals import reminder_composing

        reminder_composing.connect(
            receivers.reminder_measures_link, dispatch_uid="outcomes.reminder"
        )
