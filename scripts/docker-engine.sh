#!/usr/bin/env bash
# Makes sure a Docker engine answers: returns at once when one does; otherwise (as root, on Debian or
# Ubuntu) installs the docker.io package if dockerd is missing and starts dockerd in the background.
# Used by `npm test`, the npm run scripts and .ci/run. Exit 5 when no engine can be had.
set -euo pipefail

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "docker-engine: $*" >&2; }

engine_up() { docker info >/dev/null 2>&1 || { [ -S /var/run/docker.sock ] && curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }; }

if engine_up; then
  say "engine is running"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ]; then
  echo "docker-engine: DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST" >&2
  exit 5
fi

if [ "$(id -u)" != 0 ]; then
  echo "docker-engine: no Docker engine is running and starting one needs root:" >&2
  echo "  sudo apt-get install -y docker.io && sudo dockerd &   (or: sudo systemctl start docker)" >&2
  exit 5
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing docker.io from Debian (one time)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q docker.io >/dev/null
fi

if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl start docker
else
  say "starting dockerd (log: /var/log/otel-harness-dockerd.log)"
  nohup dockerd >/var/log/otel-harness-dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if engine_up; then
    say "engine is running"
    exit 0
  fi
  sleep 1
done
echo "docker-engine: dockerd did not answer within 60 s; see /var/log/otel-harness-dockerd.log" >&2
tail -n 20 /var/log/otel-harness-dockerd.log >&2 || true
exit 5
