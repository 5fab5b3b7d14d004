#!/bin/sh
# Builds the image with podman where no registry is reachable (`make image`; not part of
# `make test`): a stand-in for python:3.11-slim-bookworm is made once with debootstrap from
# Debian's packages, then `podman build` runs offline against it. Needs root, podman and
# debootstrap (apt-get install podman debootstrap). Usage: docker/build-local.sh [TAG]
set -eu
cd "$(dirname "$0")/.."

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' app/__init__.py)
tag=${1:-ghcr.io/followup-app/followup:$version}
base=docker.io/library/python:3.11-slim-bookworm
rootfs=${FOLLOWUP_ROOTFS:-/var/tmp/followup-base-rootfs}

# Podman's runtime and limits on this kind of machine.
if [ ! -f /etc/containers/containers.conf ]; then
  mkdir -p /etc/containers
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi

if ! podman image exists "$base"; then
  if [ ! -x "$rootfs/usr/bin/python3" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs"
    chroot "$rootfs" sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv ca-certificates && rm -rf /var/lib/apt/lists/*'
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
  fi
  # This machine's trust store, so pip inside the build trusts what the host trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' - "$base"
fi

podman build --format docker --pull=never \
  --build-arg "VERSION=$version" \
  --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$tag" .
echo "built $tag"
