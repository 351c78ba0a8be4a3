#!/bin/sh
# The image's command interface (tini runs this as PID 1's only child):
#   (no arguments)  the server: node dist/src/main.js; ROLE (api | worker | all) picks what it runs
#   migrate         apply pending migrations, then exit (node dist/src/database/migrate.cli.js run)
#   simulator       the Twilio simulator (node dist/src/simulator/main.js); it refuses
#                   NODE_ENV=production, so give it NODE_ENV=development
#   anything else   run as given: `docker run IMAGE node -e '...'`
# Every branch execs, so node replaces this shell and receives tini's SIGTERM itself.
set -eu

# The app's root: the folder above scripts/ (/app in the image); APP_DIR overrides it (tests).
APP_DIR="${APP_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}"

if [ "$#" -eq 0 ]; then
  exec node "$APP_DIR/dist/src/main.js"
fi

case "$1" in
  migrate)
    if [ "$#" -ne 1 ]; then
      echo "usage: migrate (takes no arguments; it applies every pending migration)" >&2
      exit 64
    fi
    exec node "$APP_DIR/dist/src/database/migrate.cli.js" run
    ;;
  simulator)
    if [ "$#" -ne 1 ]; then
      echo "usage: simulator (takes no arguments; configure it with SIMULATOR_* variables)" >&2
      exit 64
    fi
    exec node "$APP_DIR/dist/src/simulator/main.js"
    ;;
  *)
    exec "$@"
    ;;
esac
