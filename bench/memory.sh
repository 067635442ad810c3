#!/usr/bin/env bash
# glmock memory under churn: RSS at start, at its peak and at the end of a mixed workload
# spread over many session names, then after `POST /-/glmock/reset`.
#
#   bench/memory.sh [SECONDS]            (default 60)
#
#   MEMORY_SESSIONS     session names the requests are spread over   (default 100000)
#   MEMORY_BASELINE     another glmock binary measured the same way, in the same run
#   BENCH_NO_BUILD=1    use the release binary already built
#
# The workload (wrk, 16 connections, a Lua script): 70 % jobs pages, 20 % single jobs,
# 10 % job retries, each under /-/sessions/sN/ with N uniform over MEMORY_SESSIONS. The
# server runs on core 0, wrk on core 1.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_RUN=${1:-60}
SESSIONS=${MEMORY_SESSIONS:-100000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
log() { echo "memory.sh: $*" >&2; }
command -v wrk >/dev/null || { log "wrk is required (apt-get install -y wrk)"; exit 1; }
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    (cd "$REPO" && cargo build --release --quiet --bin glmock)
fi
GLMOCK=$CARGO_TARGET_DIR/release/glmock
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/mixed.lua" <<LUA
math.randomseed(42)
local sessions = $SESSIONS
request = function()
  local s = "/-/sessions/s" .. math.random(sessions) .. "/api/v4/projects/1"
  local r = math.random(100)
  local h = { ["PRIVATE-TOKEN"] = "glpat-root" }
  if r <= 70 then return wrk.format("GET", s .. "/jobs?per_page=20", h)
  elseif r <= 90 then return wrk.format("GET", s .. "/jobs/7", h)
  else return wrk.format("POST", s .. "/jobs/7/retry", h) end
end
LUA

rss() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

measure() { # binary label
    local bin=$1 label=$2 port pid peak=0 now
    taskset -c 0 "$bin" serve --listen 127.0.0.1:0 --no-access-log >"$WORK/out" 2>"$WORK/err" &
    pid=$!
    for _ in $(seq 100); do
        port=$(grep -o '127.0.0.1:[0-9]*' "$WORK/err" "$WORK/out" 2>/dev/null | head -1 | cut -d: -f3) || true
        [[ -n ${port:-} ]] && break
        sleep 0.1
    done
    [[ -n ${port:-} ]] || { log "$label did not start"; cat "$WORK/err" >&2; exit 1; }
    curl -sf -o /dev/null -H 'PRIVATE-TOKEN: glpat-root' "http://127.0.0.1:$port/api/v4/projects/1/jobs"
    local start; start=$(rss "$pid")
    taskset -c 1 wrk -t1 -c16 -d"${SECONDS_RUN}s" -s "$WORK/mixed.lua" "http://127.0.0.1:$port" >"$WORK/wrk" &
    local wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null; do
        now=$(rss "$pid"); (( now > peak )) && peak=$now
        sleep 1
    done
    wait "$wrk_pid"
    local requests end alive after
    requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk")
    end=$(rss "$pid")
    alive=$(curl -sf "http://127.0.0.1:$port/-/glmock/sessions" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["sessions"]) if isinstance(d, dict) else len(d))')
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/-/glmock/reset"
    sleep 1
    after=$(rss "$pid")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '| %s | %s | %s MiB | %s MiB | %s MiB | %s | %s MiB |\n' \
        "$label" "$requests" "$start" "$peak" "$end" "$alive" "$after"
}

echo "| binary | requests | RSS at start | peak | end | sessions alive | after reset |"
echo "|---|---:|---:|---:|---:|---:|---:|"
measure "$GLMOCK" "glmock ($(cd "$REPO" && git rev-parse --short HEAD))"
if [[ -n ${MEMORY_BASELINE:-} ]]; then
    measure "$MEMORY_BASELINE" "baseline ($MEMORY_BASELINE)"
fi
