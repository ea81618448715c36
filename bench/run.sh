#!/usr/bin/env bash
# Runs every benchmark of vmpooler on this machine and prints the results (see docs/benchmarks.md):
#   1. BenchmarkDotNet: checkout+return straight against the memory and Redis inventories, and a 200-pool config load;
#   2. the load generator: HTTP checkout+return against the real service (a separate `dotnet vmpooler.dll` process, dummy
#      provider, zero delays) at 1, 8, 32 and 128 clients on the memory and the Redis inventory; the Redis ceiling
#      (redis-benchmark EVALSHA of the same scripts); the Redis commands per pair (INFO commandstats); the refill
#      (checkout -> replacement ready); the manager at 200 pools x 50 VMs.
# Usage: bench/run.sh [--quick] [--out FILE] [--no-bdn] [--vmpooler DLL] [-- LOADGEN-OPTIONS...]
#   --quick     a few seconds per point (a smoke test; the numbers are only indicative)
#   --out       also write the load generator's table to FILE (markdown)
#   --no-bdn    skip BenchmarkDotNet (only the load generator)
#   --vmpooler  measure another build of vmpooler.dll (e.g. the code before a change, for an A/B run)
#   BENCH_SERVER_X=V in the environment sets X=V for the service only (e.g. BENCH_SERVER_DOTNET_TieredPGO=0)
#   -- ...      everything after -- goes to the load generator (see bench/VmPooler.LoadGen/Program.cs), e.g.
#               bench/run.sh --no-bdn -- --only manager --scale-pools 1000 --scale-size 50 --scale-managers 4
# Everything it starts (redis-server, vmpooler) listens on 127.0.0.1 only, on free ports, and is stopped by process id.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=""
out=""
bdn=1
vmpooler="src/VmPooler/bin/Release/net10.0/vmpooler.dll"
loadgen_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick="--quick" ;;
    --out) out="$2"; shift ;;
    --no-bdn) bdn="" ;;
    --vmpooler) vmpooler="$2"; shift ;;
    --) shift; loadgen_extra=("$@"); break ;;
    *) echo "usage: bench/run.sh [--quick] [--out FILE] [--no-bdn] [--vmpooler DLL] [-- LOADGEN-OPTIONS...]" >&2; exit 2 ;;
  esac
  shift
done

# redis-server (the Redis inventory and the ceiling), redis-tools (redis-benchmark, redis-cli), wrk (the --wrk client): installed only if missing,
# without starting the packaged daemon (the benchmarks start their own servers).
. .ci/install-missing.sh
install_missing bench redis-server redis-tools wrk

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
projects=(src/VmPooler bench/VmPooler.LoadGen)
[ -n "$bdn" ] && projects+=(bench/VmPooler.Benchmarks)
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -nologo -v quiet
done

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "nproc: $(nproc); cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1); memory: $(free -g | awk '/^Mem:/ {print $2 " GB"}')"
echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"); .NET: $(dotnet --version) (SDK); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "uptime: $(uptime)"
echo "vmpooler: $vmpooler; this checkout: $(git log -1 --format='%h %s' 2>/dev/null | cut -c1-100 || echo 'not a git checkout')"

if [ -n "$bdn" ]; then
echo "== BenchmarkDotNet (inventory checkout+return, config load)"
artifacts=$(mktemp -d /tmp/vmpooler-bench-bdn-XXXXXX)
if [ -n "$quick" ]; then
  bdn_job=(--job short --iterationTime 100 --warmupCount 1 --iterationCount 3)
else
  bdn_job=()
fi
dotnet bench/VmPooler.Benchmarks/bin/Release/net10.0/VmPooler.Benchmarks.dll --filter '*' "${bdn_job[@]}" --artifacts "$artifacts" \
  > "$artifacts/run.log" 2>&1 || { tail -50 "$artifacts/run.log"; exit 1; }
for report in "$artifacts"/results/*-report-github.md; do
  sed -n '/^|/p' "$report"
  echo
done
rm -rf "$artifacts"
fi

echo "== HTTP load, Redis ceiling, manager scale"
loadgen_args=(--vmpooler "$vmpooler")
[ -n "$quick" ] && loadgen_args+=(--quick)
[ -n "$out" ] && loadgen_args+=(--out "$out")
dotnet bench/VmPooler.LoadGen/bin/Release/net10.0/VmPooler.LoadGen.dll "${loadgen_args[@]}" "${loadgen_extra[@]}"
echo "uptime at the end: $(uptime)"
