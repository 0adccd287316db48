#!/bin/sh
# Container entrypoint: wait for the database, migrate under an advisory lock (several replicas
# may start at once), then exec gunicorn, or the command given as arguments
# (`docker compose run web python manage.py createuser ...`).
set -eu
cd "$(dirname "$0")/.."

python docker/wait_for_db.py
if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
  python manage.py migratelocked --no-color
fi

if [ "$#" -gt 0 ]; then
  exec "$@"
fi
exec gunicorn parsalink.wsgi
