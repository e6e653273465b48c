from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "imsclinic.api"
    label = "api"
