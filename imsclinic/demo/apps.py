from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "imsclinic.demo"
    label = "demo"
    verbose_name = "Demo clinic"
