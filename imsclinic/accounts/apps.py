from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "imsclinic.accounts"
    label = "accounts"

    def ready(self) -> None:
        from imsclinic.accounts import signals  # noqa: F401
