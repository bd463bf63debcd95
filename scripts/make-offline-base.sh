#!/usr/bin/env bash
# Makes a Docker base image where no image registry is reachable: Debian bookworm minbase with Python 3
# and venv support, built by debootstrap from Debian's package mirror and loaded with `docker import`.
#   usage: scripts/make-offline-base.sh [IMAGE]     (default simdb-base:bookworm)
# Skips the work when IMAGE already exists. Needs root, debootstrap and a running Docker engine.
set -euo pipefail
image=${1:-simdb-base:bookworm}
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image already exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 2; }
dir=$(mktemp -d /tmp/simdb-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$dir" >/dev/null
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "built base image $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
