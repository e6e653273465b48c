from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "imsclinic.followup"
    verbose_name = "Follow-up after needling"

    def ready(self) -> None:
        from imsclinic.charting.signals import note_signed
        from imsclinic.followup.receivers import checkin_for_signed_note

        note_signed.connect(checkin_for_signed_note, dispatch_uid="followup_checkin_for_note")
