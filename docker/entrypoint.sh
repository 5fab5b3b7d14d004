#!/bin/sh
# The image's entrypoint: checks that the data folder is writable by whichever UID the
# container runs as, then runs the command. It migrates nothing: `followup serve` applies
# pending migrations (FOLLOWUP_MIGRATE=0: refuses an out-of-date schema instead), the worker
# waits for them, and backup and restore never migrate.
set -eu

data=${FOLLOWUP_DATA_DIR:-/data}
if ! mkdir -p "$data" 2>/dev/null || ! ( : > "$data/.write-test" ) 2>/dev/null; then
  echo "followup: the data folder $data is not writable by uid $(id -u) (gid $(id -g))." >&2
  echo "  Give it to that user (chown -R $(id -u) on the host folder), or make it writable by" >&2
  echo "  group $(id -g) (chgrp -R $(id -g) and chmod -R g+rwX), or run the container with" >&2
  echo "  --user set to the folder's owner." >&2
  exit 1
fi
rm -f "$data/.write-test"

exec "$@"
