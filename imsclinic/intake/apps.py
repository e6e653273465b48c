from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "imsclinic.intake"
    label = "intake"
