"""The outgoing mail server in a test, which can be taken down or made to refuse an address."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage


class MailServer:
    """The outgoing mail server in a test: take it down, refuse one address, bring it back."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._real_send = EmailMessage.send
        self._refused: set[str] = set()
        self._down = False

    def down(self) -> None:
        self._down = True
        self._patch()

    def refuse(self, address: str) -> None:
        self._refused.add(address)
        self._patch()

    def back_up(self) -> None:
        self._down = False
        self._refused.clear()

    def _patch(self) -> None:
        server = self

        def send(message: EmailMessage, fail_silently: bool = False) -> int:
            if server._down or server._refused & set(message.to):
                raise ConnectionRefusedError("the mail server refused the message")
            return server._real_send(message, fail_silently)

        self._monkeypatch.setattr(EmailMessage, "send", send)
