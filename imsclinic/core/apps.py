from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "imsclinic.core"
    label = "core"

    def ready(self) -> None:
        from imsclinic.core import permissions  # noqa: F401  (registers the rules)
        from imsclinic.core.history import build_history_managers_once

        build_history_managers_once()
