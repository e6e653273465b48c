"""Starting content for the public site that the owner then edits in clinic settings."""

from __future__ import annotations

# Loaded into FaqEntry by the demo seeding command, in this order. Plain text; a blank
# line starts a new paragraph (as FaqEntry.answer expects).
DEFAULT_FAQ: list[tuple[str, str]] = [
    (
        "Does IMS hurt?",
        "Most people feel a deep ache, a cramp or a sense of pressure when the needle reaches a "
        "tight muscle. It usually lasts a few seconds while the muscle grips the needle and then "
        "lets go. Many people say it feels strange rather than painful.\n\n"
        "Tell your physiotherapist how it feels at any time. They can slow down, change what "
        "they are doing, or stop.",
    ),
    (
        "Is anything injected?",
        "No. The needle is solid, very thin and used only once, like an acupuncture needle. "
        "Nothing goes into your body except the needle itself, and it comes out again within "
        "seconds.",
    ),
    (
        "What happens at my first visit?",
        "Your physiotherapist asks about your pain, your health and any medicines you take. "
        "Then they look at how you move and gently feel the muscles along your spine, arms or "
        "legs to find the tight, tender bands.\n\n"
        "If IMS suits you and you agree to it, treatment may start the same day. If it does "
        "not suit you, they will tell you why and talk about other options.",
    ),
    (
        "How many sessions will I need?",
        "It depends on how long you have had the problem and how many areas are involved. "
        "Sessions are usually once a week. The effect often builds from one session to the "
        "next, so your physiotherapist checks your progress each time and talks with you about "
        "whether to carry on.",
    ),
    (
        "Does IMS work?",
        "Some people improve a lot, some improve a little and some do not improve. Reviews of "
        "many studies of dry needling by physiotherapists found it can ease pain in the short "
        "term, up to about three months, but the quality of that evidence is low to moderate "
        "and the benefit was not clear six to twelve months later. Studies of the Gunn IMS "
        "method itself are few.\n\n"
        "We will be honest with you about what to expect and track your progress at each visit.",
    ),
    (
        "What side effects can I expect?",
        "Soreness, like after a hard workout, and tiredness for a day or two are common. Small "
        "bruises or a drop of blood where the needle went in also happen often.\n\n"
        "Serious problems, such as an infection, a nerve injury or a needle reaching the lung, "
        "are rare. Our Safety page explains the numbers and what to watch for.",
    ),
    (
        "Is there anyone who should not have IMS?",
        "Yes. We do not needle anyone who does not want it, who is very afraid of needles, who "
        "is acutely unwell, or where there is an infection, wound or skin problem at the spot. "
        "We also take extra care, and sometimes decide against needling, if you have a "
        "bleeding disorder, take blood thinners, are pregnant, have diabetes, a weak immune "
        "system, epilepsy or an allergy to metal. Your physiotherapist checks your health "
        "history before any needling.",
    ),
    (
        "I take blood thinners. Can I still have IMS?",
        "Possibly, but tell us before your visit. Blood thinners make bruising and bleeding "
        "more likely, so your physiotherapist will review your medicines and decide with you "
        "whether needling is safe, and where.",
    ),
    (
        "What should I wear?",
        "Loose, comfortable clothes that let us reach the area being treated, such as shorts or "
        "a tank top. If you would like a towel or gown to stay covered, just ask.",
    ),
    (
        "What should I do after a session?",
        "Keep moving gently and do the exercises your physiotherapist gives you. A warm pack can "
        "ease soreness, which usually settles within one to two days. Call the clinic if "
        "anything seems unusual.\n\n"
        "Get urgent medical help at once (call 911 or go to an emergency department) if you have "
        "new shortness of breath or chest pain, a fever, a needle spot that is red, hot, "
        "swollen or leaking pus, new numbness or weakness that does not go away, or if you "
        "faint.",
    ),
    (
        "How is IMS different from other dry needling?",
        "Both use the same kind of thin, solid needle and inject nothing. General dry needling "
        "usually treats tender spots close to where it hurts. Gunn IMS starts with an "
        "examination of the whole body to find which spinal nerves are irritated, then treats "
        "muscles near the spine and in the arms or legs that those nerves supply. It is done "
        "by physiotherapists with specific IMS training.",
    ),
]
