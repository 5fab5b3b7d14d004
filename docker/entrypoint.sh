#!/bin/sh
# The image's entrypoint: waits for the database, applies pending migrations once (app
# replicas and workers starting together take turns on a Postgres advisory lock; the first
# migrates, the rest find nothing to do), then runs the command it was given.
set -eu

if [ "${FOLLOWUP_MIGRATE:-1}" != "0" ]; then
  followup migrate --wait "${FOLLOWUP_DB_WAIT:-60}"
fi

exec "$@"
