from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "imsclinic.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from imsclinic.billing import receivers  # noqa: F401
