#!/usr/bin/env bash
# Cost of fault matching: server CPU µs per request of the 20-job page
# (GET /api/v4/projects/1/jobs of bench/scenario.yaml) with no fault rules, and with 100
# rules that match nothing, measured in the same run, alternating, on pinned cores.
#
# Usage: bench/faults.sh        (prints a Markdown table on stdout, progress on stderr)
# Environment:
#   BENCH_SECONDS      wrk duration per run             (default 5)
#   BENCH_CONNECTIONS  wrk connections                  (default 16)
#   BENCH_REPEATS      runs per configuration; medians  (default 5)
#   CARGO_TARGET_DIR   cargo target dir                 (default ./target)
#   BENCH_NO_BUILD=1   use the existing release binary
#
# The 100 rules (added through POST /-/glmock/faults) are the ones a test suite plausibly
# leaves loaded: 60 on other routes, 20 on the jobs list's route for POST (it is indexed
# there, so it is looked at and refused by its method), 20 path globs on other paths (looked
# at on every request).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECONDS_RUN=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-16}
REPEATS=${BENCH_REPEATS:-5}
TOKEN=glpat-bench
SCENARIO=$BENCH_DIR/scenario.yaml
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
GLMOCK=$CARGO_TARGET_DIR/release/glmock

die() { echo "faults bench: error: $*" >&2; exit 1; }
log() { echo "faults bench: $*" >&2; }

command -v wrk >/dev/null || die "wrk is required (apt-get install wrk)"
command -v taskset >/dev/null || die "taskset is required (util-linux)"
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    log "building $GLMOCK"
    (cd "$REPO" && cargo build --release --quiet --bin glmock --example faults_match) || die "cargo build failed"
fi
[[ -x $GLMOCK ]] || die "$GLMOCK not found"
(($(nproc) >= 2)) || die "needs 2 cores (server and wrk pinned apart)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/glmock-faults-bench.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME: a glmock on core 0; sets URL_<NAME> and PID_<NAME>.
start() {
    local name=$1
    taskset -c 0 "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO" --log-level warn \
        >"$WORK/$name.out" 2>"$WORK/$name.err" &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        if [[ -s $WORK/$name.out ]]; then
            printf -v "URL_$name" '%s' "$(head -n1 "$WORK/$name.out")"
            printf -v "PID_$name" '%s' "$pid"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || die "$name exited: $(cat "$WORK/$name.err")"
        sleep 0.05
    done
    die "$name printed no URL"
}

start none
start rules
start swap
add_rules() { # URL
python3 - "$1" <<'PY' || die "could not add the rules"
import json, sys, urllib.request
other = ["/user", "/version", "/projects/:id", "/job", "/projects/:id/jobs/:job_id",
         "/projects/:id/jobs/:job_id/trace", "/projects/:id/jobs/:job_id/retry",
         "/projects/:id/jobs/:job_id/cancel", "/projects/:id/pipelines",
         "/projects/:id/pipelines/:pipeline_id", "/projects/:id/pipelines/:pipeline_id/jobs",
         "/projects/:id/pipeline"]
rules = [{"match": {"route": other[i % len(other)]}, "then": {"status": 502}} for i in range(60)]
rules += [{"match": {"method": "POST", "route": "/projects/:id/jobs"}, "then": "reset"} for _ in range(20)]
rules += [{"match": {"path": f"/api/v4/groups/{i}/**"}, "then": {"status": 503}} for i in range(20)]
req = urllib.request.Request(sys.argv[1] + "/-/glmock/faults", json.dumps(rules).encode(),
                             {"Content-Type": "application/json"})
added = json.load(urllib.request.urlopen(req))["faults"]
assert len(added) == 100, len(added)
PY
}
clear_rules() { # URL
    curl -sf -o /dev/null -X DELETE "$1/-/glmock/faults" || die "could not clear the rules"
}
add_rules "$URL_rules"

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# core0_ticks: "busy total" ticks of core 0, to see how much else ran there.
core0_ticks() { awk '$1 == "cpu0" { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)

# measure NAME: one wrk run; appends "µs_per_request req_per_s" to $WORK/NAME.runs.
measure() {
    local name=$1 url pid before after out reqs rps c0_before c0_after
    pid=$2
    url=$3
    before=$(cpu_ticks "$pid")
    c0_before=$(core0_ticks)
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECONDS_RUN}s" -H "PRIVATE-TOKEN: $TOKEN" "$url/api/v4/projects/1/jobs")
    after=$(cpu_ticks "$pid")
    c0_after=$(core0_ticks)
    reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    grep -q "Non-2xx" <<<"$out" && die "$name answered non-2xx: $out"
    python3 - "$before" "$after" "$c0_before" "$c0_after" "$reqs" "$rps" "$CLK_TCK" >>"$WORK/$name.runs" <<'PY'
import sys
b, a, c0b, c0a, reqs, rps, tck = sys.argv[1:]
(b0, t0), (b1, t1) = map(float, c0b.split()), map(float, c0a.split())
srv = float(a) - float(b)
others = max(0.0, (b1 - b0) - srv) / max(1.0, t1 - t0) * 100
print(f"{srv / float(tck) * 1e6 / float(reqs):.2f} {rps} {others:.0f}")
PY
    log "$name: $(tail -n1 "$WORK/$name.runs") (µs CPU/request, req/s, % of core 0 used by other processes)"
}

for url_pid in "$URL_none $PID_none" "$URL_rules $PID_rules" "$URL_swap $PID_swap"; do
    read -r url pid <<<"$url_pid"
    taskset -c 1 wrk -t1 -c"$CONNS" -d1s -H "PRIVATE-TOKEN: $TOKEN" "$url/api/v4/projects/1/jobs" >/dev/null
done
for rep in $(seq 1 "$REPEATS"); do
    log "round $rep/$REPEATS"
    measure none "$PID_none" "$URL_none"
    measure rules "$PID_rules" "$URL_rules"
    # The same process without and with the rules: no difference of process, heap or cache
    # layout between the two (rules cleared leave the fault hook on: the cost of looking).
    clear_rules "$URL_swap"
    measure swap-none "$PID_swap" "$URL_swap"
    add_rules "$URL_swap"
    measure swap-rules "$PID_swap" "$URL_swap"
done

python3 - "$WORK/none.runs" "$WORK/rules.runs" "$REPEATS" "$SECONDS_RUN" "$CONNS" "$(git -C "$REPO" rev-parse --short HEAD)" "$WORK/swap-none.runs" "$WORK/swap-rules.runs" <<'PY'
import statistics, sys
def load(p):
    rows = [tuple(map(float, l.split())) for l in open(p)]
    return tuple(statistics.median(r[i] for r in rows) for i in range(3))
(cn, rn, on), (cr, rr, orr) = load(sys.argv[1]), load(sys.argv[2])
print(f"Fault matching cost, `GET /api/v4/projects/1/jobs` (20 jobs), glmock {sys.argv[6]}: "
      f"medians of {sys.argv[3]} alternating {sys.argv[4]} s wrk runs, {sys.argv[5]} connections, "
      "server on core 0, wrk on core 1.\n")
print("| fault rules | server CPU µs/request | req/s |")
print("|---|---:|---:|")
print(f"| none | {cn:.2f} | {rn:.0f} |")
print(f"| 100 that match nothing | {cr:.2f} | {rr:.0f} |")
print(f"| ratio | {cr / cn:.3f} | {rr / rn:.3f} |")
(sn, sr_, _), (sc, src, _) = load(sys.argv[7]), load(sys.argv[8])
print("\nThe same process, rules cleared (`DELETE /-/glmock/faults`) and added back in turn:\n")
print("| fault rules | server CPU µs/request | req/s |")
print("|---|---:|---:|")
print(f"| none (cleared) | {sn:.2f} | {sr_:.0f} |")
print(f"| 100 that match nothing | {sc:.2f} | {src:.0f} |")
print(f"| ratio | {sc / sn:.3f} | {src / sr_:.3f} |")
print(f"\nOther processes used a median {on:.0f} % / {orr:.0f} % of core 0 during the runs "
      "(above a few %, the figures are disturbed).")
PY

# The same 100 rules in process (examples/faults_match.rs): the cost of `faults::decide`
# itself, next to answering the page, best of 25 batches (far less disturbed by other load).
echo
taskset -c 0 "$CARGO_TARGET_DIR/release/examples/faults_match"
