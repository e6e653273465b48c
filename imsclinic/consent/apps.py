from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "imsclinic.consent"
    label = "consent"
