"""The muscle catalogue: loaded from the clinic's csv plus one paraspinal per level."""

from __future__ import annotations

import csv

import pytest
from django.test import Client
from django.urls import reverse

from imsclinic.accounts.models import User
from imsclinic.charting.catalogue import CSV_PATH, catalogue_entries
from imsclinic.charting.models import Muscle
from imsclinic.charting.selectors import suggest_muscles

pytestmark = pytest.mark.django_db


def csv_codes() -> list[str]:
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def test_the_catalogue_holds_the_58_csv_muscles_and_24_paraspinals() -> None:
    assert len(csv_codes()) == 58
    assert Muscle.objects.filter(is_paraspinal=False).count() == 58
    assert set(Muscle.objects.filter(is_paraspinal=False).values_list("code", flat=True)) == set(
        csv_codes()
    )
    paraspinals = Muscle.objects.filter(is_paraspinal=True).order_by("order")
    assert [m.level for m in paraspinals][:3] == ["C2", "C3", "C4"]
    assert paraspinals.count() == 24
    assert paraspinals.last().code == "paraspinal_s1"  # type: ignore[union-attr]


def test_the_shipped_csv_is_the_shared_domain_file_with_the_deltoid_parts() -> None:
    assert len(catalogue_entries()) == 82
    assert {"anterior_deltoid", "posterior_deltoid"} <= set(csv_codes())


def test_muscles_keep_region_view_roots_and_nerve_from_the_csv() -> None:
    triceps = Muscle.objects.get(code="triceps_brachii")
    assert (triceps.region, triceps.view, triceps.root_from, triceps.root_to) == (
        "arm",
        "back",
        "C6",
        "C8",
    )
    assert triceps.nerve == "radial"
    assert triceps.note == "C7 is the key level"
    assert Muscle.objects.get(code="deltoid").view == "both"
    assert Muscle.objects.get(code="semispinalis_capitis").root_from == "C1"


def test_thoracic_precaution_follows_the_csv_note_and_the_thoracic_paraspinals() -> None:
    flagged = set(Muscle.objects.filter(thoracic_precaution=True).values_list("code", flat=True))
    expected_csv = {
        "scalene_anterior",
        "scalene_middle",
        "rhomboids",
        "serratus_anterior",
        "pectoralis_major",
        "pectoralis_minor",
    }
    expected_paraspinals = {f"paraspinal_t{n}" for n in range(1, 13)}
    assert flagged == expected_csv | expected_paraspinals
    assert not Muscle.objects.get(code="paraspinal_c7").thoracic_precaution
    assert not Muscle.objects.get(code="paraspinal_l1").thoracic_precaution


def test_paraspinals_have_their_level_as_root_range_and_a_region_by_level() -> None:
    c5 = Muscle.objects.get(code="paraspinal_c5")
    assert (c5.name, c5.view, c5.root_from, c5.root_to, c5.level) == (
        "Paraspinals C5",
        "back",
        "C5",
        "C5",
        "C5",
    )
    assert c5.region == "neck"
    assert Muscle.objects.get(code="paraspinal_t3").region == "upper_back"
    assert Muscle.objects.get(code="paraspinal_t10").region == "mid_back"
    assert Muscle.objects.get(code="paraspinal_l4").region == "low_back"


def test_suggestions_for_c6_include_its_myotome_and_the_c6_paraspinals_only() -> None:
    codes = [m.code for m in suggest_muscles(["C6"])]
    assert "biceps_brachii" in codes
    assert "triceps_brachii" in codes
    assert "pectoralis_major" in codes  # C5-T1 includes C6
    assert "paraspinal_c6" in codes
    assert "paraspinal_c5" not in codes
    assert "gastrocnemius" not in codes
    # Head to foot: the paraspinal at the neck before the arm, the arm before the forearm.
    assert codes.index("paraspinal_c6") < codes.index("biceps_brachii")
    assert codes.index("biceps_brachii") < codes.index("pronator_teres")


def test_suggestions_for_l5_and_s1_reach_the_leg_and_the_lumbosacral_paraspinals() -> None:
    codes = {m.code for m in suggest_muscles(["L5", "S1"])}
    assert {"gluteus_maximus", "tibialis_anterior", "gastrocnemius", "piriformis"} <= codes
    assert {"paraspinal_l5", "paraspinal_s1"} <= codes
    assert "biceps_brachii" not in codes


def test_a_muscle_the_owner_switched_off_is_no_longer_suggested() -> None:
    Muscle.objects.filter(code="biceps_brachii").update(is_active=False)
    assert "biceps_brachii" not in {m.code for m in suggest_muscles(["C5"])}


def test_no_segments_suggest_nothing() -> None:
    assert suggest_muscles([]) == []


def test_the_owner_edits_a_muscle_in_clinic_settings(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    muscle = Muscle.objects.get(code="biceps_brachii")
    url = reverse("owner_admin:charting_muscle_change", args=[muscle.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "Biceps brachii",
            "region": "arm",
            "view": "front",
            "is_active": "on",
            "root_from": "C5",
            "root_to": "C7",
            "nerve": "musculocutaneous",
            "level": "",
            "note": "sources differ by a level",
        },
    )
    assert response.status_code == 302
    muscle.refresh_from_db()
    assert (muscle.root_to, muscle.code) == ("C7", "biceps_brachii")
    assert "biceps_brachii" in {m.code for m in suggest_muscles(["C7"])}


def test_the_owner_cannot_reverse_a_root_range_or_delete_a_muscle(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    muscle = Muscle.objects.get(code="soleus")
    url = reverse("owner_admin:charting_muscle_change", args=[muscle.pk])
    data = {
        "name": "Soleus",
        "region": "leg",
        "view": "back",
        "is_active": "on",
        "root_from": "S2",
        "root_to": "S1",
        "nerve": "tibial",
        "level": "",
        "note": "",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "The last root must be at or below the first one." in response.content.decode()
    delete = reverse("owner_admin:charting_muscle_delete", args=[muscle.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Muscle.objects.filter(code="soleus", root_from="S1").exists()


def test_only_the_owner_edits_the_catalogue(physio: User) -> None:
    client = Client()
    client.force_login(physio)
    response = client.get(reverse("owner_admin:charting_muscle_changelist"))
    assert response.status_code == 302


# Where each muscle lies, from the anatomy: the body chart shades it on that figure only.
POSTERIOR = {
    "posterior_deltoid",
    "upper_trapezius",
    "middle_trapezius",
    "lower_trapezius",
    "levator_scapulae",
    "splenius_capitis",
    "semispinalis_capitis",
    "rhomboids",
    "supraspinatus",
    "infraspinatus",
    "teres_minor",
    "teres_major",
    "latissimus_dorsi",
    "triceps_brachii",
    "supinator",
    "extensor_carpi_radialis",
    "extensor_digitorum",
    "extensor_carpi_ulnaris",
    "first_dorsal_interosseous",
    "quadratus_lumborum",
    "gluteus_maximus",
    "gluteus_medius",
    "gluteus_minimus",
    "piriformis",
    "adductor_magnus",
    "biceps_femoris",
    "semitendinosus",
    "tibialis_posterior",
    "gastrocnemius",
    "soleus",
    "flexor_hallucis_longus",
}
ANTERIOR = {
    "sternocleidomastoid",
    "scalene_anterior",
    "scalene_middle",
    "subscapularis",
    "serratus_anterior",
    "pectoralis_major",
    "pectoralis_minor",
    "biceps_brachii",
    "brachialis",
    "brachioradialis",
    "pronator_teres",
    "flexor_carpi_radialis",
    "flexor_digitorum_superficialis",
    "flexor_carpi_ulnaris",
    "abductor_pollicis_brevis",
    "iliopsoas",
    "tensor_fasciae_latae",
    "adductor_longus",
    "rectus_femoris",
    "vastus_lateralis",
    "vastus_medialis",
    "tibialis_anterior",
    "extensor_hallucis_longus",
    "extensor_digitorum_longus",
    "fibularis_longus",
    "anterior_deltoid",
}
# The deltoid wraps the shoulder: the whole muscle (or its middle fibres) is seen from both.
BOTH = {"deltoid"}


def test_every_catalogue_muscle_is_seen_from_the_side_of_the_body_it_lies_on() -> None:
    views = {entry["code"]: entry["view"] for entry in catalogue_entries()}
    paraspinals = {code for code in views if code.startswith("paraspinal_")}
    assert set(views) == POSTERIOR | ANTERIOR | BOTH | paraspinals
    assert {code for code, view in views.items() if view == "back"} == POSTERIOR | paraspinals
    assert {code for code, view in views.items() if view == "front"} == ANTERIOR
    assert {code for code, view in views.items() if view == "both"} == BOTH


def test_a_muscle_whose_view_the_body_chart_cannot_draw_is_refused() -> None:
    from django.core.exceptions import ValidationError

    muscle = Muscle(
        code="gluteus_test",
        name="Gluteal test",
        region="buttock",
        view="front",
        root_from="L5",
        root_to="S1",
    )
    with pytest.raises(ValidationError) as refused:
        muscle.full_clean()
    assert refused.value.message_dict == {
        "view": ["The body chart draws the buttock on the back only."]
    }
    muscle.region = "elbow"
    with pytest.raises(ValidationError) as refused:
        muscle.full_clean()
    assert refused.value.message_dict == {"region": ["The body chart has no such region."]}
    muscle.region, muscle.view = "buttock", "back"
    muscle.full_clean()


def test_the_deltoid_parts_migration_adds_what_is_missing_beside_the_deltoid_once() -> None:
    from importlib import import_module

    from django.apps import apps

    parts = import_module("imsclinic.charting.migrations.0004_deltoid_parts")
    Muscle.objects.filter(code="posterior_deltoid").delete()
    Muscle.objects.filter(code="deltoid").update(order=160)
    # The owner already has the anterior part, switched off: it stays as they left it.
    Muscle.objects.filter(code="anterior_deltoid").update(is_active=False, order=900)

    parts.add_parts(apps, None)
    parts.add_parts(apps, None)

    added = Muscle.objects.filter(code__in=parts.PARTS).order_by("code")
    assert [(m.code, m.view, m.region, m.order, m.is_active) for m in added] == [
        ("anterior_deltoid", "front", "shoulder", 900, False),
        ("posterior_deltoid", "back", "shoulder", 162, True),
    ]
    assert Muscle.objects.get(code="posterior_deltoid").root_label == "C5-C6"
