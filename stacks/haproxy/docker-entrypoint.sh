#!/bin/sh
# Entrypoint of the otel-harness HAProxy image, with the upstream haproxy image's contract: arguments
# that start with an option run haproxy with them, and `haproxy ...` runs in master-worker mode (-W, so
# SIGUSR2 reloads) in the foreground (-db). Anything else is run as given.
set -e

if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = 'haproxy' ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
