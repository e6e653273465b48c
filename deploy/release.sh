#!/usr/bin/env bash
# Put the code in this folder into service (docs/DEPLOY.md, "Release"):
#
#   sudo deploy/release.sh              after `git pull` and `make install`
#   sudo deploy/release.sh --no-restart  every step but the restart (the test suite uses it)
#
# As the database's owner role: migrate, createcachetable, collectstatic, grant the runtime
# role its privileges, check --deploy; then restart the web server and the task worker.
# Any failing step stops the release before the restart, so the running version carries on.
#
# IMSCLINIC_ENV (default /etc/imsclinic/imsclinic.env) is the app's environment file, the
# one systemd gives the services; IMSCLINIC_OWNER_ENV (default /etc/imsclinic/owner.env)
# holds the owner role's DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

app_env=${IMSCLINIC_ENV:-/etc/imsclinic/imsclinic.env}
owner_env=${IMSCLINIC_OWNER_ENV:-/etc/imsclinic/owner.env}
units=(imsclinic-web.service imsclinic-worker.service)
python=.venv/bin/python

restart=1
for arg in "$@"; do
  case "$arg" in
    --no-restart) restart=0 ;;
    *)
      echo "usage: $0 [--no-restart]" >&2
      exit 2
      ;;
  esac
done

. deploy/env.sh

step() { printf 'release: %s\n' "$*"; }

load_env "$app_env"
runtime_role=$("$python" -c 'import os, dj_database_url
print(dj_database_url.parse(os.environ["DATABASE_URL"])["USER"])')
if [ -z "$runtime_role" ]; then
  echo "release: the DATABASE_URL in $app_env names no role" >&2
  exit 1
fi
# From here on every command connects as the owner role.
load_env "$owner_env"

# collectstatic needs no database, so it runs while migrate does (compressing the files
# takes a while); the release waits for both.
step "collectstatic (beside migrate)"
"$python" manage.py collectstatic --noinput -v 0 &
collectstatic=$!
step "migrate"
"$python" manage.py migrate --noinput || {
  wait "$collectstatic" || true
  exit 1
}
wait "$collectstatic" || {
  echo "release: collectstatic failed" >&2
  exit 1
}
step "createcachetable"
"$python" manage.py createcachetable
step "grant_runtime_role $runtime_role"
"$python" manage.py grant_runtime_role "$runtime_role"
step "check --deploy"
"$python" manage.py check --deploy --fail-level WARNING

if [ "$restart" = 1 ]; then
  step "restart ${units[*]}"
  systemctl restart "${units[@]}"
  systemctl --no-pager --lines=0 status "${units[@]}"
fi
step "done"
