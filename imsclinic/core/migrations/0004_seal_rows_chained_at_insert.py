"""Seal the rows written before sealing, in id order, with the hashes they already carry.

Each seal repeats its row's prev_hash and hash (scheme 1), so the verifier checks those rows
exactly as before, and the chain of newer rows continues from the last of them. Nothing is
recomputed: a row changed before this migration still fails to match its hash afterwards.
"""

from django.db import migrations

SEAL_EXISTING = """
INSERT INTO core_auditseal (seq, event_id, prev_hash, hash, scheme, sealed_at)
SELECT ROW_NUMBER() OVER (ORDER BY id), id, prev_hash, hash, 1, %s
FROM core_auditevent
WHERE hash IS NOT NULL
ORDER BY id
"""


def seal_existing(apps, schema_editor):
    from django.utils import timezone

    now = schema_editor.connection.ops.adapt_datetimefield_value(timezone.now())
    schema_editor.execute(SEAL_EXISTING, params=[now])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_seals")]

    # Going back, 0003 drops the whole seal table.
    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
