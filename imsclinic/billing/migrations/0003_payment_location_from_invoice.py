"""Give each payment recorded without a location the location of the first invoice it paid.

Payments are append-only (billing/0002): the guard on updates is lifted for this one
statement and put back in the same transaction.
"""

from django.db import migrations

FILL = """
UPDATE billing_payment SET location_id = (
    SELECT i.location_id FROM billing_allocation a
    JOIN billing_invoice i ON i.id = a.invoice_id
    WHERE a.payment_id = billing_payment.id
    ORDER BY a.created_at, a.id LIMIT 1
)
WHERE location_id IS NULL
AND EXISTS (SELECT 1 FROM billing_allocation a WHERE a.payment_id = billing_payment.id)
"""

SQLITE_GUARD = """CREATE TRIGGER IF NOT EXISTS billing_payment_append_only_update
    BEFORE UPDATE ON billing_payment
    BEGIN SELECT RAISE(ABORT, 'billing_money_locked: billing_payment is never changed'); END"""


def fill(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # The foreign keys are checked at once, so that no check is left pending on the
        # table when its guard is put back.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(
            "ALTER TABLE billing_payment DISABLE TRIGGER billing_payment_append_only"
        )
        schema_editor.execute(FILL)
        schema_editor.execute(
            "ALTER TABLE billing_payment ENABLE TRIGGER billing_payment_append_only"
        )
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS billing_payment_append_only_update")
        schema_editor.execute(FILL)
        schema_editor.execute(SQLITE_GUARD)
    else:
        schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_money_never_changes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
