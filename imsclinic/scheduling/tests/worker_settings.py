"""Settings for the `db_worker` processes test_reminders starts: emails are written to files.

The audit sealer in those workers writes its checkpoints beside the emails, not into var/.
"""

import os
from pathlib import Path

from imsclinic.settings import *  # noqa: F403

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ["IMSCLINIC_TEST_MAIL_DIR"]},
    }
}
AUDIT_CHECKPOINT_FILE = Path(os.environ["IMSCLINIC_TEST_MAIL_DIR"]).parent / "checkpoints.log"
