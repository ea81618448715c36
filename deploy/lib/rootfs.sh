# Helpers to build a minimal root filesystem from this machine's Debian packages: only the shared libraries that the
# given executables load (ldd), plus the few files a process needs. Sourced by build-image.sh and build-redis-image.sh.
# Every library is recorded with the Debian package (and version) it came from, so an image lists its contents.

# Writes "FILE package=version" for every file listed in LIST (one path a line) to standard output, sorted; "?" for a
# file no Debian package owns. One dpkg call for all files (each call reads every package's file list).
rootfs_packages() {
  local list=$1 file candidate owner
  declare -A owners=() versions=()
  # dpkg knows a file under the path its package installed it at: /lib/… or /usr/lib/… (merged /usr), or a symlink's.
  # dpkg -S lines: "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6", "redis-tools: /usr/bin/redis-server".
  while read -r owner candidate; do owners[$candidate]=$owner; done < <(
    while read -r file; do
      printf '%s\n' "$file" "$(readlink -f "$file")" "${file#/usr}" "/usr$file"
    done < "$list" | sort -u | xargs -r dpkg -S 2>/dev/null | sed -nE 's/^([^:, ]+)(:[a-z0-9]+)?: (.*)$/\1 \3/p')
  while read -r owner candidate; do versions[$owner]=$candidate; done < <(
    printf '%s\n' "${owners[@]}" | sort -u | xargs -r dpkg-query -W -f='${Package} ${Version}\n' 2>/dev/null)
  while read -r file; do
    owner="?"
    for candidate in "$file" "$(readlink -f "$file")" "${file#/usr}" "/usr$file"; do
      if [ -n "${owners[$candidate]:-}" ]; then owner=${owners[$candidate]}; break; fi
    done
    if [ "$owner" = "?" ]; then echo "$file ?"; else echo "$file $owner=${versions[$owner]:-?}"; fi
  done < "$list" | sort
}

# Copies FILE (following symlinks) to the same path under ROOT, as a regular file, and lists it in ROOT.libs.
rootfs_copy() {
  local root=$1 file=$2
  [ -e "$root$file" ] && return 0
  mkdir -p "$root$(dirname "$file")"
  cp -L "$file" "$root$file"
  echo "$file" >> "$root.libs"
}

# Copies the shared libraries that each ELF file needs (and the libraries those need) into ROOT at their paths.
rootfs_add_libs() {
  local root=$1; shift
  local elf lib
  for elf in "$@"; do
    # ldd lines: "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)".
    while read -r lib; do
      # Libraries inside ROOT already (the runtime's own, next to the executable) stay where they are.
      case "$lib" in "" | "$root"/*) continue ;; esac
      rootfs_copy "$root" "$lib"
    done < <(ldd "$elf" 2>/dev/null | awk '/=> \// { print $3 } /^[[:space:]]*\// { print $1 }')
  done
}

# The path of the library with SONAME as the dynamic loader's cache knows it (for libraries loaded with dlopen).
rootfs_find_soname() {
  # awk reads to the end: leaving early would kill ldconfig with SIGPIPE, which pipefail turns into a silent failure.
  ldconfig -p | awk -v so="$1" '$1 == so && /x86-64/ && !found { found = $NF } END { print found }'
}

# /etc/passwd and /etc/group with root and one unprivileged user, a world-writable /tmp (sticky), hosts lookup
# through files then DNS, and the system's CA bundle.
rootfs_add_base() {
  local root=$1 user=$2 uid=$3 home=$4
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root$home"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n%s:x:%s:%s:%s:%s:/sbin/nologin\n' "$user" "$uid" "$uid" "$user" "$home" > "$root/etc/passwd"
  printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid" > "$root/etc/group"
  printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # The bundle is made by update-ca-certificates from the package's certificates (dpkg does not own it).
  echo /usr/sbin/update-ca-certificates >> "$root.libs"
}

# Makes ROOT reproducible: fixed modes (directories and executables 0755, other files 0644; /tmp keeps 1777) and
# every timestamp set to EPOCH.
rootfs_normalise() {
  local root=$1 epoch=$2
  find "$root" -type d ! -path "$root/tmp" -exec chmod 0755 {} +
  find "$root" -type f -perm /111 -exec chmod 0755 {} +
  find "$root" -type f ! -perm /111 -exec chmod 0644 {} +
  find "$root" -exec touch -h -d "@$epoch" {} +
}

# Fails with a message naming the Debian package when a command is missing.
rootfs_need() {
  local command=$1 package=$2
  command -v "$command" > /dev/null || { echo "build: '$command' is missing: apt-get install $package" >&2; exit 1; }
}
