"""The OpenAPI document, and the API checked against it by schemathesis."""

from __future__ import annotations

import pytest
import schemathesis
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.factories.api import CHECKS, FUZZ, OPENAPI_URL

pytestmark = pytest.mark.django_db

LIST_PATH = "/api/v1/patients"
DETAIL_PATH = "/api/v1/patients/{patient_id}"


def test_the_openapi_document_is_public_json_with_both_paths(db):
    response = Client().get(OPENAPI_URL)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["description"]
    assert {LIST_PATH, DETAIL_PATH} <= set(document["paths"])
    for operation in (document["paths"][LIST_PATH]["get"], document["paths"][DETAIL_PATH]["get"]):
        assert operation["tags"] == ["patients"]
        assert operation["security"] == [{"ApiTokenAuth": []}]
        assert {"200", "401", "403", "422"} <= set(operation["responses"])


def test_the_openapi_document_declares_bearer_authentication(db):
    schemes = Client().get(OPENAPI_URL).json()["components"]["securitySchemes"]
    assert schemes == {"ApiTokenAuth": {"type": "http", "scheme": "bearer"}}


def test_the_swagger_page_is_switched_off_because_our_csp_would_block_it(db):
    # It loads scripts from a CDN and runs inline code; docs/API.md documents the API instead.
    assert Client().get("/api/v1/docs").status_code == 404


@pytest.mark.parametrize("who", ["front_desk", "physio"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_patient_endpoints_keep_to_their_schema(
    api_schema, cast, patient, other_patient, token_for, who, mode
):
    headers = {"Authorization": f"Bearer {token_for(cast[who])}"}
    detail = api_schema[DETAIL_PATH]["GET"]
    strategy = st.one_of(
        api_schema[LIST_PATH]["GET"].as_strategy(generation_mode=mode),
        detail.as_strategy(generation_mode=mode),
        # Real ids too, so the 200 shape of a full record is checked, not only the 404.
        *(
            detail.as_strategy(generation_mode=mode, path_parameters={"patient_id": pk})
            for pk in (patient.pk, other_patient.pk)
        ),
    )

    @FUZZ
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
