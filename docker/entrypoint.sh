#!/bin/sh
# Container entrypoint: wait for the database, migrate under an advisory lock (several replicas
# may start at once), then exec gunicorn, or the command given as arguments
# (`docker compose run web python manage.py createuser ...`). The two start-up steps print
# through docker/json_lines.py, so the container's log is JSON lines from the start.
set -eu
cd "$(dirname "$0")/.."

python docker/json_lines.py entrypoint.wait_for_db python docker/wait_for_db.py
if [ "${MIGRATE_ON_START:-1}" = "1" ]; then
  python docker/json_lines.py entrypoint.migrate python manage.py migratelocked --no-color
fi

if [ "$#" -gt 0 ]; then
  exec "$@"
fi
# No control socket: nothing in a container uses gunicornc, and the image user has no home.
exec gunicorn --no-control-socket parsalink.wsgi
