"""Make the database itself refuse to change an issued invoice or delete anything financial.

- An invoice or credit note is never deleted, and never updated once it is issued or its
  draft discarded (a draft is updated while it is written, and once more to be issued).
- An invoice's lines are never inserted, updated or deleted unless it is a draft.
- Payments, allocations, refunds, fee waivers, receipts and their deliveries are never
  updated or deleted.

The services and the models refuse the same; these catch code (or a console) that goes
around them. On SQLite a later migration that rebuilds one of these tables (most
AlterFields do) drops its triggers with it and must create them again; the tests of these
guards would fail. The number counters start at zero for each series.
"""

from django.db import migrations

APPEND_ONLY = (
    "billing_payment",
    "billing_allocation",
    "billing_refund",
    "billing_feewaiver",
    "billing_receipt",
    "billing_receiptdelivery",
)

POSTGRES_FORWARD = [
    """
CREATE OR REPLACE FUNCTION billing_invoice_locked() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'billing_money_locked: an invoice is never deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'billing_money_locked: an issued invoice never changes'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION billing_invoice_line_locked() RETURNS trigger AS $$
DECLARE
    parent_status text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO parent_status FROM billing_invoice WHERE id = OLD.invoice_id;
        IF parent_status <> 'draft' THEN
            RAISE EXCEPTION 'billing_money_locked: a line of an issued invoice never changes'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO parent_status FROM billing_invoice WHERE id = NEW.invoice_id;
        IF parent_status <> 'draft' THEN
            RAISE EXCEPTION 'billing_money_locked: a line of an issued invoice never changes'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql
""",
    """
CREATE OR REPLACE FUNCTION billing_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_money_locked: % is never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql
""",
    """CREATE TRIGGER billing_invoice_locked BEFORE UPDATE OR DELETE ON billing_invoice
        FOR EACH ROW EXECUTE FUNCTION billing_invoice_locked()""",
    """CREATE TRIGGER billing_invoiceline_locked
        BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
        FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_locked()""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION billing_append_only()"""
        for table in APPEND_ONLY
    ),
]
POSTGRES_BACKWARD = [
    *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY),
    "DROP TRIGGER IF EXISTS billing_invoiceline_locked ON billing_invoiceline",
    "DROP TRIGGER IF EXISTS billing_invoice_locked ON billing_invoice",
    "DROP FUNCTION IF EXISTS billing_append_only()",
    "DROP FUNCTION IF EXISTS billing_invoice_line_locked()",
    "DROP FUNCTION IF EXISTS billing_invoice_locked()",
]

SQLITE_FORWARD = [
    """CREATE TRIGGER IF NOT EXISTS billing_invoice_no_delete BEFORE DELETE ON billing_invoice
    BEGIN SELECT RAISE(ABORT, 'billing_money_locked: an invoice is never deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS billing_invoice_locked BEFORE UPDATE ON billing_invoice
    WHEN OLD.status <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'billing_money_locked: an issued invoice never changes'); END""",
    *(
        f"""CREATE TRIGGER IF NOT EXISTS billing_invoiceline_locked_{op}
        BEFORE {op.upper()} ON billing_invoiceline
        WHEN (SELECT status FROM billing_invoice WHERE id = {row}.invoice_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT,
            'billing_money_locked: a line of an issued invoice never changes'); END"""
        for op, row in (("insert", "NEW"), ("update", "OLD"), ("delete", "OLD"))
    ),
    *(
        f"""CREATE TRIGGER IF NOT EXISTS {table}_append_only_{op} BEFORE {op.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, 'billing_money_locked: {table} is never changed'); END"""
        for table in APPEND_ONLY
        for op in ("update", "delete")
    ),
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_invoice_no_delete",
    "DROP TRIGGER IF EXISTS billing_invoice_locked",
    *(
        f"DROP TRIGGER IF EXISTS billing_invoiceline_locked_{op}"
        for op in ("insert", "update", "delete")
    ),
    *(
        f"DROP TRIGGER IF EXISTS {table}_append_only_{op}"
        for table in APPEND_ONLY
        for op in ("update", "delete")
    ),
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement, params=None)

    return run


def start_counters(apps, schema_editor):
    counter = apps.get_model("billing", "NumberCounter")
    for series in ("invoice", "credit_note", "receipt"):
        counter.objects.get_or_create(series=series)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.RunPython(start_counters, migrations.RunPython.noop),
    ]
