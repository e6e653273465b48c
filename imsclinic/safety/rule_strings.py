"""Every screening reason in screening_rules.toml, marked for the translators.

makemessages cannot read TOML, so the sentences are repeated here; a test keeps this list
and the rules file the same. Pages translate a flag's reason with gettext at display time.
"""

from django.utils.translation import gettext_noop

REASONS = (
    gettext_noop("Severe fear of needles: needling should not go ahead."),
    gettext_noop("The patient does not want to be needled."),
    gettext_noop("No one can give informed consent for needling."),
    gettext_noop(
        "Unwell now (fever, acute illness or a medical emergency): no needling until it has passed."
    ),
    gettext_noop("Lymphoedema: never needle the affected limb."),
    gettext_noop("Lymph nodes removed: the limb is at risk of lymphoedema; never needle it."),
    gettext_noop("Infection, wound or skin lesion: never needle at or near it."),
    gettext_noop("Takes (or may take) anticoagulants: higher risk of bleeding and bruising."),
    gettext_noop(
        "Takes (or may take) antiplatelet medication: higher risk of bleeding and bruising."
    ),
    gettext_noop("Has (or may have) a bleeding disorder: check bleeding risk before needling."),
    gettext_noop("Immune system may be weakened: higher risk of infection."),
    gettext_noop("Vascular disease: check circulation and avoid affected vessels."),
    gettext_noop("Diabetes: slower healing and possibly reduced sensation."),
    gettext_noop("Pregnant or possibly pregnant: review whether and where to needle."),
    gettext_noop("Under 18: a parent or guardian must give consent."),
    gettext_noop(
        "Consent is given by a guardian or substitute decision-maker: confirm who and how."
    ),
    gettext_noop("Frail (needs help with daily activities or has fallen in the past year)."),
    gettext_noop("Epilepsy: needling may trigger a seizure in some people."),
    gettext_noop("Anxiety: explain each step and watch for a strong reaction."),
    gettext_noop("Has fainted with needles before: treat lying down and watch closely."),
    gettext_noop("Moderate fear of needles: talk it through before deciding to needle."),
    gettext_noop("Not sure about being needled: discuss it before any needling."),
    gettext_noop("Allergic to metal (e.g. nickel): check the needles used."),
    gettext_noop("Allergic to latex: use latex-free gloves and supplies."),
    gettext_noop(
        "Short of breath now: find out why before needling, and take special care over the "
        "chest wall."
    ),
    gettext_noop(
        "Has had (or may have had) a collapsed lung: needle over the chest wall only with a "
        "technique that keeps away from the lung."
    ),
    gettext_noop(
        "COPD or emphysema: the lungs may lie closer to the skin; needle over the chest wall "
        "only with a technique that keeps away from the lung."
    ),
    gettext_noop(
        "Cystic fibrosis: fragile lungs; needle over the chest wall only with a technique that "
        "keeps away from the lung."
    ),
    gettext_noop(
        "Another lung condition (or not sure): ask about it, and take special care over the "
        "chest wall."
    ),
    gettext_noop(
        "Has had chest or lung surgery: scarring can change the depth of the lung; take "
        "special care over the chest wall."
    ),
    gettext_noop(
        "Breast implants: never needle through or towards an implant; take special care over "
        "the front of the chest."
    ),
    gettext_noop(
        "The questions about the chest and lungs have not been answered (an earlier form): ask "
        "them before needling over the chest wall."
    ),
)
