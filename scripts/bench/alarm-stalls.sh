#!/usr/bin/env bash
# Whether the pages' documents stall after an import: the documents follow
# run after run on the repository object's alarm, so a stall is an alarm
# that did not fire (docs/measured.md, "An alarm that did not fire").
#
#   bash scripts/bench/alarm-stalls.sh REV [RUNS] [SILENT_SECONDS]
#
# Runs `npm run bench -- --quick --only scale --split --pin --push-rate 2000
# --code REV` RUNS times (default 8), one at a time. Each run has two
# documents phases, one per layout. The scale section prints each phase's
# time and longest pause. A code before 2695b17 never sets a stuck alarm
# again, so its bench would wait 600 s: a run whose output stands still
# SILENT_SECONDS (default 45) is counted as a stall and stopped. Prints one
# line per run and a total. Needs taskset (--pin) and two cores or more.
set -euo pipefail
rev=${1:?usage: alarm-stalls.sh REV [RUNS] [SILENT_SECONDS]}
runs=${2:-8}
silent=${3:-45}
cd "$(dirname "$0")/../.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
phases=0
stalls=0
for i in $(seq 1 "$runs"); do
  log="$logs/$i.log"
  setsid npm run bench -- --quick --only scale --split --pin --push-rate 2000 --code "$rev" > "$log" 2>&1 &
  pid=$!
  size=-1
  last=$(date +%s)
  stalled=""
  while kill -0 "$pid" 2> /dev/null; do
    sleep 3
    now_size=$(stat -c %s "$log")
    if [ "$now_size" != "$size" ]; then
      size=$now_size
      last=$(date +%s)
    elif [ $(($(date +%s) - last)) -gt "$silent" ]; then
      stalled="stalled after: $(tail -1 "$log" | cut -c1-100)"
      # The bench and the workerd processes it started (its process group).
      kill -- -"$pid" 2> /dev/null || true
      break
    fi
  done
  wait "$pid" 2> /dev/null || true
  followed=$(grep -o 'followed in [0-9.]* s (longest pause [0-9.]* s)' "$log" || true)
  count=$(printf '%s' "$followed" | grep -c 'followed' || true)
  phases=$((phases + count))
  if [ -n "$stalled" ]; then
    stalls=$((stalls + 1))
    phases=$((phases + 1))
  fi
  echo "run $i: ${followed//$'\n'/; }${stalled:+ STALL, $stalled}"
done
echo "$rev: $stalls stall(s) in $phases documents phase(s) of $runs run(s)"
