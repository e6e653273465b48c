#!/usr/bin/env bash
# Run a manage.py command with the app's production settings, connected as the runtime role
# like the services (docs/DEPLOY.md):
#
#   sudo deploy/manage.sh createsuperuser
#   sudo deploy/manage.sh verify_audit_log
#   sudo deploy/manage.sh issue_api_token desk@clinic.example --name "nightly export"
#
# IMSCLINIC_ENV (default /etc/imsclinic/imsclinic.env) is the app's environment file.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/env.sh
load_env "${IMSCLINIC_ENV:-/etc/imsclinic/imsclinic.env}"
exec .venv/bin/python manage.py "$@"
