from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "imsclinic.followup"
    verbose_name = "Follow-up after needling"

    def ready(self) -> None:
        from imsclinic.charting.models import NeedlingSession
        from imsclinic.charting.signals import note_signed
        from imsclinic.followup.receivers import checkin_for_signed_note

        # Needling notes only: a check-in asks about needling.
        note_signed.connect(
            checkin_for_signed_note,
            sender=NeedlingSession,
            dispatch_uid="followup_checkin_for_note",
        )
