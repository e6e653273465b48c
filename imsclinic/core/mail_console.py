"""Development email: each message on the console as a person would read it.

Django's console backend prints the raw MIME message, so one signed consent copy is pages
of base64 PDF. This one prints the headers, the plain-text body and, for each attachment
and HTML version, one line with its name, type and size. Only `DEBUG` uses it.
"""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


def _attachment_line(attachment: Any) -> str:
    if hasattr(attachment, "get_payload"):  # a MIME part built by hand (e.g. a calendar file)
        payload = attachment.get_payload(decode=True) or b""
        name = attachment.get_filename() or "(no name)"
        return f"[attached: {name}, {attachment.get_content_type()}, {len(payload):,} bytes]"
    filename, content, mimetype = attachment
    size = len(content.encode() if isinstance(content, str) else content)
    return f"[attached: {filename or '(no name)'}, {mimetype or 'unknown type'}, {size:,} bytes]"


class EmailBackend(ConsoleEmailBackend):
    def write_message(self, message: EmailMessage) -> None:
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
            *([f"Reply-To: {', '.join(message.reply_to)}"] if message.reply_to else []),
            f"Subject: {message.subject}",
            "",
            str(message.body).rstrip(),
            "",
        ]
        for _content, mimetype in getattr(message, "alternatives", []):
            lines.append(f"[also sent as {mimetype}]")
        lines += [_attachment_line(attachment) for attachment in message.attachments]
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
