from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "imsclinic.followup"
    verbose_name = "Follow-up after needling"
