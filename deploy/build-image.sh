#!/usr/bin/env bash
# Builds the vmpooler OCI image FROM scratch: a self-contained `dotnet publish` of src/VmPooler plus only the shared
# libraries it loads, taken from this machine's Debian packages (listed with their versions in the image at
# /usr/share/doc/vmpooler-image/contents.txt). Needs dotnet, buildah and the libraries' packages (libssl3,
# libldap-2.5-0, ca-certificates); pulls nothing.
#
#   deploy/build-image.sh [IMAGE]      # default IMAGE: localhost/vmpooler:latest
#
# Reproducible: the same commit (and sources), SDK and Debian package versions give the same image id (timestamps
# are pinned to SOURCE_DATE_EPOCH, default 0; file modes are normalised). The publish is cached under
# $VMPOOLER_BUILD_CACHE (default /var/tmp/vmpooler-build-cache), keyed by the commit, a hash of the sources and the
# SDK version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib/rootfs.sh
. "$here/lib/rootfs.sh"

image=${1:-localhost/vmpooler:latest}
cache=${VMPOOLER_BUILD_CACHE:-/var/tmp/vmpooler-build-cache}
epoch=${SOURCE_DATE_EPOCH:-0}
rootfs_need dotnet "the .NET SDK (see global.json)"
rootfs_need buildah buildah
rootfs_need ldd libc-bin

publish_args=(-c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true
  -p:ContinuousIntegrationBuild=true -p:DebugType=none -p:GenerateDocumentationFile=false
  -p:SatelliteResourceLanguages=en)

# The publish's cache key: every file the build reads (tracked or new, not ignored), the commit (the SDK writes it
# into the version: vmpooler --version says 1.0.0+<commit>), the SDK and the arguments.
commit=$(cd "$repo" && git rev-parse HEAD 2>/dev/null || echo unknown)
key=$(cd "$repo" && {
  echo "$commit"
  git ls-files -z --cached --others --exclude-standard -- src examples eng Directory.Build.props \
    Directory.Build.targets Directory.Packages.props global.json NuGet.config nuget.config 2>/dev/null \
    | sort -z | xargs -0 -r sha256sum
  dotnet --version
  echo "${publish_args[*]}"
} | sha256sum | cut -c1-16)
publish="$cache/publish-$key"
if [ ! -x "$publish/vmpooler" ]; then
  echo "build-image: publishing src/VmPooler (cache key $key)"
  rm -rf "$publish.tmp"
  mkdir -p "$cache"
  # --disable-build-servers: no MSBuild node or compiler server is left running after the build.
  dotnet publish "$repo/src/VmPooler/VmPooler.csproj" "${publish_args[@]}" -o "$publish.tmp" -nologo -v:q --disable-build-servers
  # The LTTng tracing provider needs liblttng-ust, which the image does not carry; the runtime skips it when absent.
  rm -f "$publish.tmp/libcoreclrtraceptprovider.so"
  mv "$publish.tmp" "$publish"
  # Keep the three newest publishes.
  ls -dt "$cache"/publish-* 2>/dev/null | grep -v '\.tmp$' | tail -n +4 | xargs -r rm -rf
else
  echo "build-image: reusing the publish $publish"
fi

context=$(mktemp -d /var/tmp/vmpooler-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
root="$context/rootfs"
mkdir -p "$root/opt" "$root/usr/share/doc/vmpooler-image" "$root/etc/vmpooler"
cp -a "$publish" "$root/opt/vmpooler"

# The libraries: what the executable and the runtime's native parts link, plus what the runtime loads by name:
# OpenSSL (TLS, hashing) and OpenLDAP (the LDAP authenticator). ICU is left out (invariant globalisation).
: > "$root.libs"
rootfs_add_libs "$root" "$root/opt/vmpooler/vmpooler" "$root"/opt/vmpooler/*.so
for soname in libssl.so.3 libcrypto.so.3 libldap-2.5.so.0; do
  lib=$(rootfs_find_soname "$soname")
  [ -n "$lib" ] || { echo "build-image: $soname is missing: apt-get install ${soname%%.so*}" >&2; exit 1; }
  rootfs_copy "$root" "$lib"
  rootfs_add_libs "$root" "$lib"
done
rootfs_add_base "$root" vmpooler 10001 /home/vmpooler

{
  echo "# vmpooler image: self-contained publish of commit $commit (sources hash $key), .NET SDK $(dotnet --version)"
  echo "# file debian-package=version (the CA bundle: made by ca-certificates' update-ca-certificates)"
  rootfs_packages "$root.libs"
} > "$root/usr/share/doc/vmpooler-image/contents.txt"
rm -f "$root.libs"
rootfs_normalise "$root" "$epoch"

buildah bud --timestamp "$epoch" --layers=false --format oci -f "$here/Containerfile" -t "$image" "$context" > "$context/build.log" 2>&1 \
  || { cat "$context/build.log" >&2; exit 1; }
echo "build-image: built $image"
buildah images --no-trunc "$image"
