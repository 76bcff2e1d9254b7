#!/usr/bin/env bash
# Runs every fuzz target of build-fuzz/ (scripts/setup.sh --fuzz) for SECONDS each, two at a time,
# each with its corpus in CORPUS/<target> and its log in CORPUS/<target>.log; findings land in
# CORPUS/<target>/../findings-<target>/. Usage: scripts/fuzz_all.sh SECONDS [CORPUS (default /tmp/ddlsim-corpus)]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:?usage: scripts/fuzz_all.sh SECONDS [CORPUS]}
corpus=${2:-/tmp/ddlsim-corpus}
bin="$here/build-fuzz/tests/fuzz"
declare -A seeds=(
  [scenario]="$here/scenarios $here/scenarios/shi2021 $here/bench/scenarios"
  [sweep]="$here/scenarios/sweeps $here/scenarios/grace"
  [profile]="$here/calibration/profiles"
  [network_calibration]="$here/tests/fuzz/seeds/network_calibration"
  [nccl_log]="$here/tests/fuzz/seeds/nccl_log"
  [custom_model_topology]="$here/tests/fuzz/seeds/custom_model_topology"
)
run() {
  local t=$1
  mkdir -p "$corpus/$t" "$corpus/findings-$t"
  (cd "$corpus/findings-$t" && "$bin/${t}_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
     -print_final_stats=1 "$corpus/$t" ${seeds[$t]} > "$corpus/$t.log" 2>&1) || true
  echo "$t: $(grep -E '^stat::number_of_executed_units' "$corpus/$t.log" | awk '{print $2}') executions, \
$(ls "$corpus/findings-$t" | wc -l) findings"
}
targets=(scenario sweep profile network_calibration nccl_log custom_model_topology)
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  [ $((i + 1)) -lt ${#targets[@]} ] && run "${targets[i + 1]}" &
  wait
done
