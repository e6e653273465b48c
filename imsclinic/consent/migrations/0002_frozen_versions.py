"""Make PostgreSQL itself refuse to change or delete what was published or signed.

A published consent version keeps its title, text, hash and number for ever; a signature
keeps what was shown and who signed, and may only be withdrawn, once. The services refuse
the same changes; these triggers catch code (or a console) that goes around them.

SQLite gets no triggers: Django's test flush there deletes rows one table at a time, which a
delete-refusing trigger would stop, and production runs on PostgreSQL.
"""

from django.db import migrations

VERSION_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_version_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status = 'published' THEN
            RAISE EXCEPTION 'consent_version_frozen: a published consent version cannot be deleted'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'published' AND (
        NEW.title IS DISTINCT FROM OLD.title
        OR NEW.body IS DISTINCT FROM OLD.body
        OR NEW.body_sha256 IS DISTINCT FROM OLD.body_sha256
        OR NEW.number IS DISTINCT FROM OLD.number
        OR NEW.status IS DISTINCT FROM OLD.status
        OR NEW.document_id IS DISTINCT FROM OLD.document_id
        OR NEW.published_at IS DISTINCT FROM OLD.published_at
    ) THEN
        RAISE EXCEPTION 'consent_version_frozen: a published consent version cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

SIGNATURE_FUNCTION = """
CREATE OR REPLACE FUNCTION consent_signature_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consent_signature_frozen: a consent signature cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.patient_id IS DISTINCT FROM OLD.patient_id
        OR NEW.version_id IS DISTINCT FROM OLD.version_id
        OR NEW.text_shown IS DISTINCT FROM OLD.text_shown
        OR NEW.text_sha256 IS DISTINCT FROM OLD.text_sha256
        OR NEW.signer IS DISTINCT FROM OLD.signer
        OR NEW.signer_name IS DISTINCT FROM OLD.signer_name
        OR NEW.guardian_relationship IS DISTINCT FROM OLD.guardian_relationship
        OR NEW.agreed IS DISTINCT FROM OLD.agreed
        OR NEW.drawn_signature IS DISTINCT FROM OLD.drawn_signature
        OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
        OR NEW.ip_address IS DISTINCT FROM OLD.ip_address
        OR NEW.user_agent IS DISTINCT FROM OLD.user_agent
        OR NEW.channel IS DISTINCT FROM OLD.channel
        OR (OLD.withdrawn_at IS NOT NULL AND (
            NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
            OR NEW.withdrawal_reason IS DISTINCT FROM OLD.withdrawal_reason
        ))
    THEN
        RAISE EXCEPTION 'consent_signature_frozen: a consent signature can only be withdrawn, once'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

POSTGRES_FORWARD = [
    VERSION_FUNCTION,
    """CREATE TRIGGER consent_version_frozen
        BEFORE UPDATE OR DELETE ON consent_consentversion
        FOR EACH ROW EXECUTE FUNCTION consent_version_frozen()""",
    SIGNATURE_FUNCTION,
    """CREATE TRIGGER consent_signature_frozen
        BEFORE UPDATE OR DELETE ON consent_consentsignature
        FOR EACH ROW EXECUTE FUNCTION consent_signature_frozen()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS consent_signature_frozen ON consent_consentsignature",
    "DROP FUNCTION IF EXISTS consent_signature_frozen()",
    "DROP TRIGGER IF EXISTS consent_version_frozen ON consent_consentversion",
    "DROP FUNCTION IF EXISTS consent_version_frozen()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD}),
        ),
    ]
