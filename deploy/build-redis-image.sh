#!/usr/bin/env bash
# Builds a small Redis image FROM scratch out of this machine's redis-server package (and the libraries it links),
# for the compose stack and the tests where no registry is reachable. Anywhere a registry is, use the official
# redis image instead.
#
#   deploy/build-redis-image.sh [IMAGE]      # default IMAGE: localhost/vmpooler-redis:latest
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/rootfs.sh
. "$here/lib/rootfs.sh"

image=${1:-localhost/vmpooler-redis:latest}
epoch=${SOURCE_DATE_EPOCH:-0}
rootfs_need buildah buildah
rootfs_need redis-server redis-server

context=$(mktemp -d /var/tmp/vmpooler-redis-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
root="$context/rootfs"
mkdir -p "$root/data" "$root/usr/share/doc/vmpooler-redis-image"
: > "$root.libs"
server=$(readlink -f "$(command -v redis-server)")
mkdir -p "$root/usr/bin"
cp -L "$server" "$root/usr/bin/redis-server"
echo "$server" >> "$root.libs"
rootfs_add_libs "$root" "$server"
rootfs_add_base "$root" redis 10002 /data
rootfs_packages "$root.libs" > "$root/usr/share/doc/vmpooler-redis-image/contents.txt"
rm -f "$root.libs"
rootfs_normalise "$root" "$epoch"
# Redis writes its dump (when asked to) in /data: the only directory its user owns.
chown 10002:10002 "$root/data"

buildah bud --timestamp "$epoch" --layers=false --format oci -f "$here/redis/Containerfile" -t "$image" "$context" > "$context/build.log" 2>&1 \
  || { cat "$context/build.log" >&2; exit 1; }
echo "build-redis-image: built $image"
buildah images --no-trunc "$image"
