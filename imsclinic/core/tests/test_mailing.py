"""A task's emails go one by one: one refused address does not keep the others untold."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core import mail

from imsclinic.core.mailing import RETRY_AFTER, retry_at, send_each
from tests.factories.mail import MailServer

NOW = dt.datetime(2031, 3, 3, 12, 0, tzinfo=dt.UTC)


def email_to(address: str) -> mail.EmailMessage:
    return mail.EmailMessage(subject="Needs review", body="Sign in to read it.", to=[address])


def test_every_email_goes_and_the_count_says_so(mailoutbox: list[mail.EmailMessage]) -> None:
    assert send_each([email_to("a@cedar.example"), email_to("b@cedar.example")], about="x") == 2
    assert [message.to for message in mailoutbox] == [["a@cedar.example"], ["b@cedar.example"]]


def test_a_refused_address_is_logged_and_the_rest_still_go(
    mailoutbox: list[mail.EmailMessage],
    mail_server: MailServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mail_server.refuse("a@cedar.example")
    with caplog.at_level(logging.ERROR, logger="imsclinic.core.mailing"):
        sent = send_each(
            [email_to("a@cedar.example"), email_to("b@cedar.example")], about="follow-up alert 7"
        )
    assert sent == 1
    assert [message.to for message in mailoutbox] == [["b@cedar.example"]]
    assert "follow-up alert 7: the email to a@cedar.example failed" in caplog.text


def test_a_retry_is_a_quarter_of_an_hour_later_until_the_deadline() -> None:
    assert retry_at(NOW, NOW + dt.timedelta(hours=1)) == NOW + RETRY_AFTER
    assert retry_at(NOW, NOW + RETRY_AFTER) == NOW + RETRY_AFTER
    assert retry_at(NOW, NOW + dt.timedelta(minutes=5)) is None
