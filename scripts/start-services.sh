#!/usr/bin/env bash
# Starts the services the test suite needs that the tests cannot start themselves: the Docker engine.
# (redis-server, MariaDB and ZooKeeper are started by the tests on free ports.) Idempotent: a running
# engine is left alone. Without root, it only reports.
set -euo pipefail
if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "no Docker engine is running and this is not root: start one (sudo systemctl start docker)" >&2
  exit 0
fi
command -v dockerd >/dev/null || { echo "dockerd is missing: apt-get install docker.io" >&2; exit 1; }
log=${TMPDIR:-/tmp}/simdb-dockerd.log
nohup dockerd >"$log" 2>&1 &
echo "started dockerd (pid $!, log $log)"
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not become ready within 60 s; last log lines:" >&2
tail -20 "$log" >&2
exit 1
