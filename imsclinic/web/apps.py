from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "imsclinic.web"
    label = "web"
