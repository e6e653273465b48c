"""Change history (django-simple-history) without rebuilding its manager class on every save.

The library's `HistoryDescriptor` makes a new manager class (`from_queryset`) each time
`instance.history` is read, and it reads it once for every historical row it writes: on a
booking that class cost more than the row's INSERT. `build_history_managers_once` swaps each
history-tracked model's descriptor for one that makes the class once, at start-up. Its
managers are the library's own, with the same model, queryset and instance.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Model
from simple_history.manager import HistoryDescriptor


class HistoryDescriptorBuiltOnce(HistoryDescriptor):
    """`HistoryDescriptor` with its manager class made once instead of on every read."""

    def __init__(self, plain: HistoryDescriptor) -> None:
        super().__init__(plain.model, manager=plain.manager_class, queryset=plain.queryset_class)
        self.built = plain.manager_class.from_queryset(plain.queryset_class)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self.built(self.model, instance)


def build_history_managers_once() -> list[type[Model]]:
    """Give every history-tracked model the built-once descriptor; return those models."""
    swapped = []
    for model in apps.get_models():
        name: str | None = getattr(model._meta, "simple_history_manager_attribute", None)
        if name is None:
            continue
        descriptor = model.__dict__.get(name)
        if type(descriptor) is HistoryDescriptor:
            setattr(model, name, HistoryDescriptorBuiltOnce(descriptor))
            swapped.append(model)
    return swapped
