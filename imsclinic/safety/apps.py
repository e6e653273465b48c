from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "imsclinic.safety"
    label = "safety"
