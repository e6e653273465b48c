"""Settings for the `db_worker` processes test_reminders starts: emails are written to files."""

import os

from imsclinic.settings import *  # noqa: F403

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ["IMSCLINIC_TEST_MAIL_DIR"]},
    }
}
