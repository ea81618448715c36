# Sourced by bench/run.sh and deploy/test.sh (.ci/run spells the same steps out itself).
# install_missing LABEL PACKAGE...: installs those of the Debian packages that are not installed yet, starting no daemon
# they ship (redis-server, slapd, libvirt-daemon, podman …): a temporary policy-rc.d tells invoke-rc.d to start nothing,
# because the tests and benchmarks start their own servers and nothing may outlive the script that called this.
install_missing() {
  local label=$1 p status=0 policy_added=""
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi

  echo "$label: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
  fi
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } || status=$?
  # Removed whether or not the install worked, so a failed install does not leave every later one starting nothing.
  if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
  return $status
}
