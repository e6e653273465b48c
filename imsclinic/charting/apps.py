from django.apps import AppConfig


class ChartingConfig(AppConfig):
    name = "imsclinic.charting"
    label = "charting"
