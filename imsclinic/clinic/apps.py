from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "imsclinic.clinic"
    label = "clinic"

    def ready(self) -> None:
        from imsclinic.clinic import receivers
        from imsclinic.core.signals import worker_starting

        worker_starting.connect(
            receivers.licence_reminders_on_worker_start,
            dispatch_uid="clinic_licence_reminders_on_worker_start",
        )
