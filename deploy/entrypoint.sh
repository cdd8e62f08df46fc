#!/bin/sh
# The container's command: a service name serves it on :8000, as `console` serves the web
# console (工作台); `migrate <service>` migrates its database; anything else is handed to the
# jinhui command line.
set -eu
case "${1:-}" in
  members|entitlements|disbursements|hardship)
    exec uvicorn "services.$1.entrypoints.app:app" --host 0.0.0.0 --port 8000 \
      --proxy-headers --no-access-log ;;
  console)
    exec uvicorn console.app:app --host 0.0.0.0 --port 8000 --proxy-headers --no-access-log ;;
  *)
    exec jinhui "$@" ;;
esac
