#!/usr/bin/env bash
# What the journal costs: server CPU per request of the 20-job page (GET /projects/1/jobs
# of bench/scenario.yaml) with the journal off, with it on and bodies journaled (the
# default), with it on without bodies, and the default with the access log on, all in the
# same run, interleaved (A B C D, A B C D, …) so that drift on a shared machine hits every
# configuration alike. The server runs on core 0 and wrk on core 1 (taskset); CPU per
# request is utime+stime from /proc/PID/stat over wrk's request count; the median of the
# rounds is reported. Then the journal's cost in process (examples/journal_bench.rs), which
# this shared machine's noise disturbs far less.
#
# Usage: bench/journal.sh   (writes bench/journal.md)
# Environment: BENCH_SECONDS (10), BENCH_WARMUP (2), BENCH_CONNECTIONS (32), BENCH_ROUNDS (3),
#   CARGO_TARGET_DIR (./target), BENCH_NO_BUILD=1 to use the existing release binary.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
TOKEN=glpat-bench
SCENARIO=$BENCH_DIR/scenario.yaml
OUT=$BENCH_DIR/journal.md
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
GLMOCK=$CARGO_TARGET_DIR/release/glmock

die() { echo "journal bench: error: $*" >&2; exit 1; }
log() { echo "journal bench: $*" >&2; }
command -v wrk >/dev/null || die "wrk is required (apt-get install -y wrk)"
command -v taskset >/dev/null || die "taskset is required"
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet --bin glmock --example journal_bench) || die "cargo build failed"
fi
[[ -x $GLMOCK ]] || die "$GLMOCK not found"
INPROC=$CARGO_TARGET_DIR/release/examples/journal_bench
[[ -x $INPROC ]] || die "$INPROC not found (cargo build --release --example journal_bench)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/glmock-journal-bench.XXXXXX")
PID=
cleanup() {
    if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

declare -A FLAGS=(
    [off]="--no-journal --no-access-log"
    [bodies]="--no-access-log"
    [nobodies]="--journal-body-bytes 0 --no-access-log"
    [default]=""
)
ORDER=(off bodies nobodies default)
declare -A CPU RPS

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

for round in $(seq 1 "$ROUNDS"); do
    for name in "${ORDER[@]}"; do
        # shellcheck disable=SC2086
        taskset -c 0 "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO" ${FLAGS[$name]} \
            >"$WORK/url" 2>/dev/null &
        PID=$!
        for _ in $(seq 1 200); do [[ -s $WORK/url ]] && break; sleep 0.05; done
        url="$(head -1 "$WORK/url")/api/v4/projects/1/jobs"
        curl -sf -H "PRIVATE-TOKEN: $TOKEN" "$url" >/dev/null || die "$name: $url does not answer"
        taskset -c 1 wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "PRIVATE-TOKEN: $TOKEN" "$url" >/dev/null
        before=$(cpu_ticks "$PID")
        taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" -H "PRIVATE-TOKEN: $TOKEN" "$url" >"$WORK/wrk"
        after=$(cpu_ticks "$PID")
        reqs=$(awk '/requests in/ { print $1 }' "$WORK/wrk")
        rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk")
        cpu=$(awk -v a="$after" -v b="$before" -v t="$TICK" -v r="$reqs" 'BEGIN { printf "%.2f", (a - b) / t * 1e6 / r }')
        log "round $round $name: $cpu µs CPU/request, $rps req/s ($reqs requests)"
        CPU[$name]+="$cpu "
        RPS[$name]+="$rps "
        kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
        : >"$WORK/url"
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
best() { tr ' ' '\n' | grep -v '^$' | sort -g | head -1; }
base=$(median <<<"${CPU[off]}")
base_best=$(best <<<"${CPU[off]}")
{
    echo "# Journal cost ($(date -u +%Y-%m-%dT%H:%MZ), $(cd "$REPO" && git rev-parse --short HEAD))"
    echo
    echo "\`GET /api/v4/projects/1/jobs\` (20 jobs, bench/scenario.yaml), wrk -t1 -c$CONNS, ${SECS} s × $ROUNDS rounds, server on core 0, wrk on core 1; medians."
    echo
    echo "Other tenants of a shared machine only ever slow a round down, so the best round of each"
    echo "configuration (the least disturbed, as \`bench/run.sh\` keeps the fastest run) is given beside the median."
    echo
    echo "| configuration | server CPU µs/request, median | vs journal off | best round | vs journal off | requests/s | rounds (µs) |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    for name in "${ORDER[@]}"; do
        m=$(median <<<"${CPU[$name]}")
        b=$(best <<<"${CPU[$name]}")
        r=$(median <<<"${RPS[$name]}")
        ratio=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%+.1f %%", (m / b - 1) * 100 }')
        ratio_best=$(awk -v m="$b" -v b="$base_best" 'BEGIN { printf "%+.1f %%", (m / b - 1) * 100 }')
        echo "| $name (\`${FLAGS[$name]:-no flags}\`) | $m | $ratio | $b | $ratio_best | $r | ${CPU[$name]}|"
    done
    echo
    echo "In process (\`examples/journal_bench.rs\`, on core 0), the same page and request:"
    echo
    taskset -c 0 "$INPROC"
} >"$OUT"
cat "$OUT"
