from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "imsclinic.clinic"
    label = "clinic"
