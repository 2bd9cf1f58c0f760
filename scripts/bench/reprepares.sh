#!/usr/bin/env bash
# Which SQL statements a running workerd prepares again, and how often.
#
#   bash scripts/bench/reprepares.sh PID [SECONDS]
#
# PID is a workerd process (the bench prints the object's: "scale (split):
# ready … (workerd storage X, object Y, worker Z)"). For SECONDS (default 10)
# gdb stops at every sqlite3Reprepare, the function SQLite runs when a cached
# statement has expired, and the statement's text is counted. The process
# runs slower while attached: counts show which statements, not timings.
# Needs gdb and a workerd with symbols (the npm builds have them); see
# durable-objects/stable-plans.ts for why a statement expires.
set -euo pipefail
pid=${1:?usage: reprepares.sh PID [SECONDS]}
seconds=${2:-10}
command -v gdb > /dev/null || { echo "reprepares.sh: gdb is not installed" >&2; exit 2; }
kill -0 "$pid" 2> /dev/null || { echo "reprepares.sh: no process $pid" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out" "$out.gdb"' EXIT
cat > "$out.gdb" << 'GDB'
set pagination off
set confirm off
break sqlite3Reprepare
commands
silent
printf "\n@@REPREPARE@@ %s\n", (char*)sqlite3_sql($rdi)
continue
end
continue
detach
quit
GDB
gdb -q -batch -p "$pid" -x "$out.gdb" > "$out" 2>&1 &
gdb_pid=$!
sleep "$seconds"
kill -INT "$gdb_pid" 2> /dev/null || true
wait "$gdb_pid" || true
python3 - "$out" "$seconds" << 'PY'
import collections, re, sys
text = open(sys.argv[1], errors="replace").read()
# Each statement runs until gdb's next line of its own ("[New Thread …]", "Thread 1 … received signal SIGINT").
statements = [" ".join(re.split(r"\n(?:\[|Thread |0x)", part)[0].split()) for part in text.split("@@REPREPARE@@ ")[1:]]
counts = collections.Counter(statements)
print(f"{len(statements)} statement(s) prepared again in {sys.argv[2]} s, {len(counts)} distinct")
for sql, n in counts.most_common(30):
    print(f"{n:8d}  {sql[:160]}")
PY
