"""The development console shows an email as a person reads it, attachments by name."""

from __future__ import annotations

import io

from django.core.mail import EmailMultiAlternatives

from imsclinic.core.mail_console import EmailBackend


def test_an_email_with_a_pdf_prints_its_text_and_names_the_pdf_instead_of_its_bytes() -> None:
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        "Your signed consent",
        "Hello,\nyour copy is attached.\n",
        "clinic@example.com",
        ["patient@example.com"],
    )
    message.attach_alternative("<p>Hello</p>", "text/html")
    message.attach("consent.pdf", b"%PDF-1.7 " * 1000, "application/pdf")

    EmailBackend(stream=stream).send_messages([message])

    printed = stream.getvalue()
    assert "Subject: Your signed consent" in printed
    assert "your copy is attached." in printed
    assert "[attached: consent.pdf, application/pdf, 9,000 bytes]" in printed
    assert "[also sent as text/html]" in printed
    assert "JVBERi" not in printed  # the PDF's base64 never reaches the console
