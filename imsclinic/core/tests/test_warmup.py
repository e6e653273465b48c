"""Before gunicorn forks its workers, every template compiles once (core.warmup)."""

from __future__ import annotations

from django.template import engines

from imsclinic.core.warmup import template_names, warm_up


def test_every_template_the_pages_use_compiles_in_the_warm_up():
    names = template_names()

    assert "base.html" in names
    assert "scheduling/calendar_week.html" in names
    assert warm_up() == len(names)


def test_after_the_warm_up_a_template_comes_from_the_loaders_cache():
    warm_up()
    loader = engines["django"].engine.template_loaders[0]  # type: ignore[attr-defined]

    assert type(loader).__name__ == "Loader" and loader.__module__.endswith(".cached")
    cached = {key.split("-")[0] for key in loader.get_template_cache}
    assert "scheduling/calendar_week.html" in cached
