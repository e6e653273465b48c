"""The demo clinic's consent to IMS: a plain-language text, published, signed by the demo patient.

The figures come from the studies named in the text: Brady et al. 2014 (J Man Manip Ther
22(3):134-40) and Boyce et al. 2020 (Int J Sports Phys Ther 15(1):103-113).

The owner writes and publishes it and the demo patient signs it in the portal, through the
consent services, so the audit log and the signed copy's email task are there as for any
signature.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from imsclinic.consent.models import Channel, ConsentSignature, Signer
from imsclinic.consent.selectors import latest_published_version, needling_document
from imsclinic.consent.services import (
    consent_document_create,
    consent_draft_save,
    consent_publish,
    consent_sign,
)
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

NEEDLING_CONSENT_SLUG = "needling-consent"
NEEDLING_CONSENT_TITLE = "Consent to IMS (intramuscular stimulation) treatment"
NEEDLING_CONSENT_BODY = """\
Please read this before your first IMS treatment. Ask your physiotherapist about anything \
that is not clear. You do not have to agree, and you can stop at any time.

## What IMS is

IMS (Gunn intramuscular stimulation) is a kind of dry needling. Your physiotherapist puts a \
very thin, sterile, single-use needle through the skin into muscles that are tight or tender, \
to help them relax and to ease pain. No medicine is injected. Each needle is used once and \
thrown away.

## What it feels like

- The needle going in usually feels like a small pinch, or nothing at all.
- A tight muscle often cramps or twitches for a moment when the needle reaches it. This can \
feel strong, like a deep ache or a charley horse, and it passes quickly.
- Tell your physiotherapist at any time if it is too much. They will stop.

## Common effects (usually mild, gone within a few days)

- Soreness or tiredness in the treated area for 24 to 48 hours, like after exercise.
- Bruising or a small spot of bleeding where a needle went in.
- Pain during the treatment, or for a short time after.
- Feeling drowsy, light-headed or faint, a headache or nausea. Lying down helps.
- Your usual pain feeling worse for a day or two before it eases.

In a study of 7,629 dry-needling treatments by 39 physiotherapists (Brady and colleagues, \
2014), mild effects followed about 19 in 100 treatments: bruising in about 8 in 100, \
bleeding in about 5 in 100, pain during treatment in about 3 in 100. In a study of 20,464 \
sessions by 420 physical therapists (Boyce and colleagues, 2020), minor effects followed \
about 37 in 100 sessions, bleeding being the most common (16 in 100).

## Rare but serious risks

- A needle near the chest wall, neck or shoulder blade can puncture a lung (pneumothorax). \
Signs are new shortness of breath or chest pain, sometimes hours later.
- Infection where a needle went in: redness that spreads, heat, swelling, pus or fever.
- Nerve injury: numbness, tingling or weakness that does not go away.
- Fainting during or just after treatment.

The Brady study found no significant adverse events in 7,629 treatments. The Boyce study \
found 20 major adverse events in 20,464 sessions, about 1 in every 1,000.

If you have any of these signs after treatment, get medical help at once (call 911 or go to \
the nearest emergency department) and then tell the clinic.

## Before each treatment, tell your physiotherapist if

- you take blood thinners or have a bleeding disorder;
- you are or may be pregnant;
- you have diabetes, a weak immune system, epilepsy or a disease of the blood vessels;
- you have had lymph nodes removed or have swelling (lymphoedema) in an arm or leg;
- you have an infection, a wound or a skin problem where you would be needled;
- you are allergic to metals such as nickel, or to latex;
- you are afraid of needles or have fainted with needles before.

## Your choices

- You can say no to IMS. Your physiotherapist will offer other treatment.
- You can ask to stop at any moment during a treatment, and the needles come out.
- You can withdraw this consent at any time, in the patient portal or by telling the clinic. \
You will not be needled after that unless you sign again.
- If the clinic changes this text, you will be asked to read and sign the new version before \
your next treatment.

By signing, you say that you have read this, that you had the chance to ask questions, and \
that you agree to receive IMS from the clinic's physiotherapists."""


def seed_needling_consent(*, owner: User, demo_patient: Patient | None) -> dict[str, bool]:
    """Publish version 1 of the demo consent and have the demo patient sign it; idempotent."""
    made = {"consent versions": False, "consent signatures": False}
    document = needling_document()
    if document is None:
        document = consent_document_create(
            slug=NEEDLING_CONSENT_SLUG, title=NEEDLING_CONSENT_TITLE, for_needling=True, actor=owner
        )
    version = latest_published_version(document)
    if version is None:
        draft = consent_draft_save(
            document=document, title=NEEDLING_CONSENT_TITLE, body=NEEDLING_CONSENT_BODY, actor=owner
        )
        # Published well before the demo course of treatment (charting.demo) began.
        version = consent_publish(
            draft=draft, actor=owner, now=timezone.now() - dt.timedelta(days=60)
        )
        made["consent versions"] = True
    if (
        demo_patient is not None
        and demo_patient.user is not None
        and not ConsentSignature.objects.filter(patient=demo_patient, version=version).exists()
    ):
        consent_sign(
            patient=demo_patient,
            version=version,
            agreed=True,
            signer_name=demo_patient.full_name,
            signer=Signer.SELF,
            channel=Channel.PORTAL,
            actor=demo_patient.user,
            now=max(version.published_at or timezone.now(), timezone.now() - dt.timedelta(days=38)),
        )
        made["consent signatures"] = True
    return made
