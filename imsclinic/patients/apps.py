from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "imsclinic.patients"
    label = "patients"
