#!/bin/bash
# Provider calls reaching the dummy provider during a 30 s outage (issue 14). Run from the repository root after
# dotnet build src/VmPooler:  bench/ops/outage-calls.sh with true 18761; bench/ops/outage-calls.sh without false 18762
# usage: run.sh <name> <circuit_breaker_enabled> <port>
set -e
dll=$(realpath "${VMPOOLER_DLL:-src/VmPooler/bin/Debug/net10.0/vmpooler.dll}")
d=/tmp/ops-bench/$1; rm -rf $d; mkdir -p $d
cat > $d/vmpooler.yaml <<YAML
:providers:
  :dummy:
    createvm_max_time: 0.05
    boot_max_time: 0.05
    outage_file: '$d/outage'
:config:
  circuit_breaker_enabled: $2
:pools:
  - name: a
    size: 5
  - name: b
    size: 5
YAML
cd $d
dotnet "$dll" -c $d/vmpooler.yaml --urls http://127.0.0.1:$3 > $d/log 2>&1 &
pid=$!
sleep 10
touch $d/outage
end=$((SECONDS+30))
n=0
while [ $SECONDS -lt $end ]; do curl -s -o /dev/null -X POST http://127.0.0.1:$3/api/v3/vm/a; curl -s -o /dev/null -X POST http://127.0.0.1:$3/api/v3/vm/b; n=$((n+2)); sleep 0.2; done
echo "checkout attempts during outage: $n"
rm $d/outage
calls=$(wc -l < $d/outage.calls)
sleep 5
curl -s "http://127.0.0.1:$3/api/v3/status?view=pools,providers" > $d/status.json
kill $pid
echo "$1 breaker=$2 calls_in_30s=$calls per_s=$(echo "scale=1; $calls/30" | bc)"
grep -c "circuit breaker opened" $d/log || true
