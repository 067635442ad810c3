#!/usr/bin/env bash
# glmock benchmark: start-up time, 100k-job load time and RSS, keyset latency, and
# throughput + server CPU per request against a bare hyper server serving the same bytes.
#
# Usage: bench/run.sh            (from anywhere; writes bench/results.md)
# Environment:
#   BENCH_SECONDS      wrk duration per target           (default 10)
#   BENCH_WARMUP       wrk warm-up seconds per target    (default 2)
#   BENCH_CONNECTIONS  wrk connections                   (default 32)
#   BENCH_STARTUP_RUNS start-up measurements             (default 20)
#   BENCH_LATENCY_REPS curl repetitions per latency row  (default 50)
#   BENCH_REPEATS      measured wrk runs per target; the fastest is kept (default 3)
#   CARGO_TARGET_DIR   cargo target dir (default /work/target-bench if it exists, else ./target)
#   BENCH_NO_BUILD=1   skip cargo build (use existing binaries)
#   BENCH_PARTS        "base scale" (default), "base" or "scale": which sections run
#   BENCH_MUTATIONS    retry -> cancel pairs for the mutation latency (default 300)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-32}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-20}
LAT_REPS=${BENCH_LATENCY_REPS:-50}
REPEATS=${BENCH_REPEATS:-3}
PARTS=${BENCH_PARTS:-base scale}
TOKEN=glpat-bench
SCENARIO=$BENCH_DIR/scenario.yaml
RESULTS=$BENCH_DIR/results.md
SINGLE_JOB_ID=50000 # exists in scenario.yaml (ids 1..100000)

if [[ -z ${CARGO_TARGET_DIR:-} ]]; then
    if [[ -d /work/target-bench ]]; then CARGO_TARGET_DIR=/work/target-bench; else CARGO_TARGET_DIR=$REPO/target; fi
fi
export CARGO_TARGET_DIR
GLMOCK=$CARGO_TARGET_DIR/release/glmock
BARE=$CARGO_TARGET_DIR/release/examples/bare_hyper

die() { echo "bench: error: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/glmock-bench.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- prerequisites
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    as_root apt-get install -y wrk >/dev/null 2>&1 ||
        { as_root apt-get update >/dev/null && as_root apt-get install -y wrk >/dev/null; } ||
        die "could not install wrk (apt-get install -y wrk)"
fi
for tool in curl python3 cargo; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(cd "$REPO" && git status --porcelain --untracked-files=no 2>/dev/null) ]]; then GIT_REV="$GIT_REV (+ uncommitted changes)"; fi
if [[ ${BENCH_NO_BUILD:-0} == 1 ]]; then GIT_REV="$GIT_REV (BENCH_NO_BUILD: binaries may be older)"; fi
if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
    log "building release binaries in $CARGO_TARGET_DIR"
    (cd "$REPO" && cargo build --release --quiet --bin glmock --example bare_hyper) || die "cargo build failed"
fi
[[ -x $GLMOCK ]] || die "$GLMOCK not found"
[[ -x $BARE ]] || die "$BARE not found"
"$GLMOCK" check "$SCENARIO" >/dev/null || die "bench scenario $SCENARIO does not load"

NPROC=$(nproc)
if ((NPROC >= 2)); then
    PIN_SERVER=(taskset -c 0)
    PIN_CLIENT=(taskset -c 1)
    PINNING="server on core 0, wrk on core 1 (taskset)"
    SERVER_CORE=0
    CLIENT_CORE=1
else
    PIN_SERVER=()
    PIN_CLIENT=()
    PINNING="none (only 1 core: server and wrk share it)"
    SERVER_CORE=
    CLIENT_CORE=
fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- helpers
# start_server NAME CMD... : starts CMD in the background, sets SERVER_PID and SERVER_URL
# (the first stdout line), failing after 10 s.
start_server() {
    local name=$1
    shift
    local out=$WORK/$name.out
    "$@" >"$out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local deadline=$((SECONDS + ${START_TIMEOUT:-10}))
    SERVER_URL=
    while ((SECONDS < deadline)); do
        if [[ -s $out ]] && SERVER_URL=$(head -n1 "$out") && [[ $SERVER_URL == http://* ]]; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null ||
            die "$name exited before printing its URL; stderr: $(cat "$WORK/$name.err")"
        sleep 0.02
    done
    die "$name did not print its URL within ${START_TIMEOUT:-10} s; stderr: $(cat "$WORK/$name.err")"
}

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

cpu_ticks() { # utime + stime of PID, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# fetch URL OUT_BODY OUT_HEADERS: GET with the token; dies with the body unless 200.
fetch() {
    local code
    code=$(curl -sS -o "$2" -D "$3" -w '%{http_code}' -H "PRIVATE-TOKEN: $TOKEN" "$1") ||
        die "curl $1 failed"
    if [[ $code != 200 ]]; then
        echo "bench: GET $1 answered $code; body:" >&2
        cat "$2" >&2
        echo >&2
        die "glmock did not answer 200 (see above)"
    fi
}

# core_ticks CORE -> "busy total" clock ticks of one core (all cores when CORE is empty)
core_ticks() {
    awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}

# wrk_run NAME URL PID : warm-up, then BENCH_REPEATS measured runs; keeps the run with the
# most requests/s (the least disturbed). Sets RPS, CPU_US, REQS, NON2XX, SRV_PCT, OTHER_PCT.
# SRV_PCT: the server's CPU time / wall time of its core; OTHER_PCT: the rest of that
# core's busy time (other processes; a few % of softirq is normal). OTHER_PCT well above
# 0 means someone else was using the server's core and the figures are disturbed.
declare -A RPS CPU_US REQS NON2XX SRV_PCT OTHER_PCT WRK_PCT KOTHER_PCT
wrk_run() {
    local name=$1 url=$2 pid=$3 rep
    "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "PRIVATE-TOKEN: $TOKEN" "$url" >/dev/null
    for ((rep = 1; rep <= REPEATS; rep++)); do
        local out=$WORK/wrk-$name-$rep.txt before after cb ca kb ka
        cb=$(core_ticks "$SERVER_CORE")
        kb=$(core_ticks "$CLIENT_CORE")
        before=$(cpu_ticks "$pid")
        times >"$WORK/times-before" # children's CPU so far: the delta is wrk's
        "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNS" -d"${SECONDS_RUN}s" -H "PRIVATE-TOKEN: $TOKEN" "$url" >"$out"
        times >"$WORK/times-after"
        after=$(cpu_ticks "$pid")
        ca=$(core_ticks "$SERVER_CORE")
        ka=$(core_ticks "$CLIENT_CORE")
        local reqs rps non
        reqs=$(awk '/requests in/ { print $1 }' "$out")
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
        non=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
        [[ -n $reqs && -n $rps ]] || die "could not parse wrk output for $name: $(cat "$out")"
        ((${non:-0} == 0)) || log "WARNING: $name had $non non-2xx responses"
        local stats
        stats=$(python3 - "$WORK/times-before" "$WORK/times-after" <<PY
import re, sys
def children(path):  # second line of bash \`times\`: children's user and system time
    user, sys_ = open(path).read().splitlines()[1].split()
    sec = lambda t: sum(float(m) * f for m, f in zip(re.findall(r"[\\d.]+", t), (60, 1)))
    return sec(user) + sec(sys_)
srv = ($after - $before) / $CLK_TCK
wrk = children(sys.argv[2]) - children(sys.argv[1])
def core(b, a):
    b, a = b.split(), a.split()
    return (int(a[0]) - int(b[0])) / $CLK_TCK, (int(a[1]) - int(b[1])) / $CLK_TCK
sbusy, stotal = core("$cb", "$ca")
kbusy, ktotal = core("$kb", "$ka")
if "$CLIENT_CORE" == "$SERVER_CORE":  # unpinned: one pool of all cores
    others, total = sbusy - srv - wrk, stotal
else:
    others, total = sbusy - srv, stotal
    kothers = max(kbusy - wrk, 0) / ktotal
print(f"{srv * 1e6 / $reqs:.1f} {100 * srv / stotal:.0f} {100 * max(others, 0) / total:.0f} {100 * wrk / ktotal:.0f}",
      f"{100 * kothers:.0f}" if "$CLIENT_CORE" != "$SERVER_CORE" else "-")
PY
)
        local cpu srv other wrkpct kother
        read -r cpu srv other wrkpct kother <<<"$stats"
        log "$name run $rep/$REPEATS: $rps req/s, $cpu µs CPU/request ($reqs requests); server core: server $srv%, others $other%; wrk core: wrk $wrkpct%, others $kother%"
        if [[ -z ${RPS[$name]:-} ]] || python3 -c "import sys; sys.exit(0 if $rps > ${RPS[$name]} else 1)"; then
            RPS[$name]=$rps REQS[$name]=$reqs NON2XX[$name]=${non:-0}
            CPU_US[$name]=$cpu SRV_PCT[$name]=$srv OTHER_PCT[$name]=$other
            WRK_PCT[$name]=$wrkpct KOTHER_PCT[$name]=$kother
        fi
    done
    if ((OTHER_PCT[$name] > 10)) || { [[ ${KOTHER_PCT[$name]} != - ]] && ((KOTHER_PCT[$name] > 10)); }; then
        log "WARNING: other processes were busy during $name (server core ${OTHER_PCT[$name]}%, wrk core ${KOTHER_PCT[$name]}%): figures are disturbed"
    fi
}

# latency URL : median of LAT_REPS curl time_total, in ms
latency_ms() {
    local i
    for ((i = 0; i < LAT_REPS; i++)); do
        curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -H "PRIVATE-TOKEN: $TOKEN" "$1"
    done | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
bad = [c for c, _ in rows if c != "200"]
if bad:
    sys.exit(f"non-200 answers: {sorted(set(bad))}")
print(f"{statistics.median(float(t) for _, t in rows) * 1000:.2f}")'
}

cursor() { python3 -c 'import base64,json,sys; print(base64.urlsafe_b64encode(json.dumps({"id":sys.argv[1],"_kd":"n"},separators=(",",":")).encode()).decode().rstrip("="))' "$1"; }
bare_args() { # HEADERS_FILE -> --content-type X --header 'N: v' ... (NUL-separated)
    python3 - "$1" <<'PY'
import sys
args = []
for line in open(sys.argv[1], encoding="latin-1").read().splitlines()[1:]:
    if ":" not in line:
        continue
    name, value = line.split(":", 1)
    name, value = name.strip().lower(), value.strip()
    if name in ("date", "content-length", "transfer-encoding", "connection"):
        continue
    if name == "content-type":
        args += ["--content-type", value]
    else:
        args += ["--header", f"{name}: {value}"]
sys.stdout.write("".join(a + "\0" for a in args))
PY
}
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }
verdict() { # VALUE OP LIMIT
    python3 -c "import operator as o; print('✅' if getattr(o, '$2')(float('$1'), float('$3')) else '❌')"
}

# ---------------------------------------------------------------- start-up time
# startup.py MODE RUNS PATH TOKEN -- CMD... : exec -> first 200 on PATH, RUNS times.
cat >"$WORK/startup.py" <<'PY'
import http.client, os, select, signal, statistics, subprocess, sys, time

runs, path, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cmd = sys.argv[5:]
samples, rss, cpu = [], [], []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 120)
        if not ready:
            sys.exit(f"no URL printed within 120 s by {cmd}")
        url = p.stdout.readline().decode().strip()
        if not url.startswith("http://"):
            sys.exit(f"unexpected first stdout line {url!r} from {cmd}")
        host = url[len("http://"):]
        while True:
            if time.perf_counter() - t0 > 120:
                sys.exit(f"no 200 on {path} within 120 s")
            try:
                c = http.client.HTTPConnection(host, timeout=10)
                c.request("GET", path, headers={"PRIVATE-TOKEN": token})
                r = c.getresponse()
                body = r.read()
                c.close()
            except OSError:
                time.sleep(0.0005)
                continue
            if r.status == 200:
                samples.append((time.perf_counter() - t0) * 1000)
                with open(f"/proc/{p.pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu.append((int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK"))
                break
            sys.exit(f"GET {path} answered {r.status}: {body[:2000].decode(errors='replace')}")
        with open(f"/proc/{p.pid}/status") as f:
            rss += [int(l.split()[1]) for l in f if l.startswith("VmRSS:")]
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
print("%.1f %.1f %.1f %.0f" % (statistics.median(samples), max(samples), statistics.median(rss) / 1024, statistics.median(cpu)))
PY
startup() { # RUNS PATH TOKEN CMD... -> "median max rss cpu_ms" (cpu: the server's CPU time until then)
    python3 "$WORK/startup.py" "$1" "$2" "$3" -- "${@:4}"
}

if [[ " $PARTS " == *" base "* ]]; then
log "start-up, embedded default scenario ($STARTUP_RUNS runs each)"
read -r SU_H_MED SU_H_MAX _ < <(startup "$STARTUP_RUNS" /-/glmock/health glpat-root "$GLMOCK" serve --listen 127.0.0.1:0) ||
    die "start-up measurement failed"
read -r SU_J_MED SU_J_MAX SU_RSS _ < <(startup "$STARTUP_RUNS" /api/v4/projects/1/jobs glpat-root "$GLMOCK" serve --listen 127.0.0.1:0) ||
    die "start-up measurement failed"
log "start-up, bench scenario with 100,000 jobs ($STARTUP_RUNS runs each)"
read -r LD_H_MED LD_H_MAX _ < <(startup "$STARTUP_RUNS" /-/glmock/health "$TOKEN" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO") ||
    die "load-time measurement failed"
read -r LD_J_MED LD_J_MAX LD_RSS _ < <(startup "$STARTUP_RUNS" /api/v4/projects/1/jobs "$TOKEN" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO") ||
    die "load-time measurement failed"

# ---------------------------------------------------------------- glmock throughput
log "throughput: $PINNING; wrk -t1 -c$CONNS -d${SECONDS_RUN}s (+${WARMUP}s warm-up)"
start_server glmock "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO"
GL_PID=$SERVER_PID
GL_URL=$SERVER_URL
LIST_URL=$GL_URL/api/v4/projects/1/jobs
JOB_URL=$GL_URL/api/v4/projects/1/jobs/$SINGLE_JOB_ID
fetch "$LIST_URL" "$WORK/list.body" "$WORK/list.headers"
fetch "$JOB_URL" "$WORK/job.body" "$WORK/job.headers"
RSS_LOADED=$(rss_kib "$GL_PID")
LIST_N=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/list.body")
((LIST_N == 20)) || die "the jobs page has $LIST_N jobs, expected 20"

# Keyset latency: first page vs the last page (cursor after job 21 -> jobs 20..1),
# and offset pagination first vs last page for comparison.
DEEP_CURSOR=$(cursor 21)
KS_FIRST_URL="$LIST_URL?pagination=keyset&per_page=20"
KS_DEEP_URL="$LIST_URL?pagination=keyset&per_page=20&cursor=$DEEP_CURSOR"
fetch "$KS_DEEP_URL" "$WORK/deep.body" "$WORK/deep.headers"
DEEP_IDS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%s..%s, %d jobs" % (d[0]["id"], d[-1]["id"], len(d)) if d else "empty")' "$WORK/deep.body")
log "keyset/offset latency ($LAT_REPS requests each; deep keyset page = jobs $DEEP_IDS)"
LAT_KS_FIRST=$(latency_ms "$KS_FIRST_URL")
LAT_KS_DEEP=$(latency_ms "$KS_DEEP_URL")
LAT_OFF_FIRST=$(latency_ms "$LIST_URL?page=1&per_page=20")
LAT_OFF_DEEP=$(latency_ms "$LIST_URL?page=2500&per_page=20")

wrk_run glmock-list "$LIST_URL" "$GL_PID"
wrk_run glmock-job "$JOB_URL" "$GL_PID"
RSS_AFTER=$(rss_kib "$GL_PID")
stop_server "$GL_PID"

# ---------------------------------------------------------------- bare hyper, same bytes
# Same body and the same response headers (minus date/content-length, which hyper sets).
for target in list job; do
    mapfile -d '' -t EXTRA < <(bare_args "$WORK/$target.headers")
    start_server "bare-$target" "${PIN_SERVER[@]}" "$BARE" --listen 127.0.0.1:0 --body "$WORK/$target.body" "${EXTRA[@]}"
    curl -sS -o "$WORK/bare-$target.body" "$SERVER_URL/" || die "bare_hyper did not answer"
    cmp -s "$WORK/bare-$target.body" "$WORK/$target.body" || die "bare_hyper served different bytes"
    wrk_run "bare-$target" "$SERVER_URL/api/v4/projects/1/jobs" "$SERVER_PID"
    stop_server "$SERVER_PID"
done

# ---------------------------------------------------------------- report
CPU_R_LIST=$(ratio "${CPU_US[glmock-list]}" "${CPU_US[bare-list]}")
CPU_R_JOB=$(ratio "${CPU_US[glmock-job]}" "${CPU_US[bare-job]}")
RPS_R_LIST=$(ratio "${RPS[glmock-list]}" "${RPS[bare-list]}")
RPS_R_JOB=$(ratio "${RPS[glmock-job]}" "${RPS[bare-job]}")
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
LIST_BYTES=$(wc -c <"$WORK/list.body")
JOB_BYTES=$(wc -c <"$WORK/job.body")

{
    echo "## glmock benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "Machine: $NPROC cores, $CPU_MODEL, Linux $(uname -r); glmock $GIT_REV; $(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}')."
    echo "Pinning: $PINNING. wrk -t1 -c$CONNS -d${SECONDS_RUN}s after a ${WARMUP}s warm-up, best of $REPEATS runs by req/s; header PRIVATE-TOKEN."
    echo "Scenario: bench/scenario.yaml (1 project, 500 pipelines × 200 jobs = 100,000 jobs; 250 pipelines of mixed statuses, 250 all successful)."
    echo
    echo "### Start-up and load ($STARTUP_RUNS runs each, exec → first HTTP 200)"
    echo
    echo "| Measure | median | max |"
    echo "|---|---:|---:|"
    echo "| default scenario: \`/-/glmock/health\` | $SU_H_MED ms | $SU_H_MAX ms |"
    echo "| default scenario: \`/api/v4/projects/1/jobs\` | $SU_J_MED ms | $SU_J_MAX ms |"
    echo "| 100k-job scenario: \`/-/glmock/health\` | $LD_H_MED ms | $LD_H_MAX ms |"
    echo "| 100k-job scenario: \`/api/v4/projects/1/jobs\` | $LD_J_MED ms | $LD_J_MAX ms |"
    echo
    echo "| Memory (VmRSS) | |"
    echo "|---|---:|"
    echo "| default scenario, after first jobs request | $SU_RSS MiB |"
    echo "| 100k-job scenario, after first jobs request | $LD_RSS MiB |"
    echo "| 100k-job scenario, pinned server before load test | $(python3 -c "print(f'{$RSS_LOADED/1024:.1f}')") MiB |"
    echo "| 100k-job scenario, after all load tests | $(python3 -c "print(f'{$RSS_AFTER/1024:.1f}')") MiB |"
    echo
    echo "### Pagination latency (100k jobs, median of $LAT_REPS curl requests, time_total)"
    echo
    echo "| Request | median |"
    echo "|---|---:|"
    echo "| keyset, first page (\`?pagination=keyset&per_page=20\`) | $LAT_KS_FIRST ms |"
    echo "| keyset, last page (cursor id 21 → jobs $DEEP_IDS) | $LAT_KS_DEEP ms |"
    echo "| offset, first page (\`?page=1&per_page=20\`) | $LAT_OFF_FIRST ms |"
    echo "| offset, deepest allowed page (offset 49,980 ≤ GitLab's 50,000 cap, \`?page=2500&per_page=20\`) | $LAT_OFF_DEEP ms |"
    echo
    echo "### Throughput and server CPU (bare = bare hyper serving glmock's exact bytes and headers)"
    echo
    echo "| Target | body | req/s | server CPU µs/request | requests | non-2xx | server core: server / others % | wrk core: wrk / others % |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    echo "| (a) glmock \`GET /projects/1/jobs\` (20 jobs) | $LIST_BYTES B | ${RPS[glmock-list]} | ${CPU_US[glmock-list]} | ${REQS[glmock-list]} | ${NON2XX[glmock-list]} | ${SRV_PCT[glmock-list]} / ${OTHER_PCT[glmock-list]} | ${WRK_PCT[glmock-list]} / ${KOTHER_PCT[glmock-list]} |"
    echo "| (b) glmock \`GET /projects/1/jobs/$SINGLE_JOB_ID\` | $JOB_BYTES B | ${RPS[glmock-job]} | ${CPU_US[glmock-job]} | ${REQS[glmock-job]} | ${NON2XX[glmock-job]} | ${SRV_PCT[glmock-job]} / ${OTHER_PCT[glmock-job]} | ${WRK_PCT[glmock-job]} / ${KOTHER_PCT[glmock-job]} |"
    echo "| (c) bare hyper, bytes of (a) | $LIST_BYTES B | ${RPS[bare-list]} | ${CPU_US[bare-list]} | ${REQS[bare-list]} | ${NON2XX[bare-list]} | ${SRV_PCT[bare-list]} / ${OTHER_PCT[bare-list]} | ${WRK_PCT[bare-list]} / ${KOTHER_PCT[bare-list]} |"
    echo "| (d) bare hyper, bytes of (b) | $JOB_BYTES B | ${RPS[bare-job]} | ${CPU_US[bare-job]} | ${REQS[bare-job]} | ${NON2XX[bare-job]} | ${SRV_PCT[bare-job]} / ${OTHER_PCT[bare-job]} | ${WRK_PCT[bare-job]} / ${KOTHER_PCT[bare-job]} |"
    echo
    echo "| Ratio glmock / bare | jobs page (a/c) | single job (b/d) | target |"
    echo "|---|---:|---:|---|"
    echo "| CPU µs/request | $CPU_R_LIST $(verdict "$CPU_R_LIST" le 2) | $CPU_R_JOB $(verdict "$CPU_R_JOB" le 2) | ≤ 2× |"
    echo "| req/s | $RPS_R_LIST $(verdict "$RPS_R_LIST" ge 0.5) | $RPS_R_JOB $(verdict "$RPS_R_JOB" ge 0.5) | ≥ 0.5× |"
} | tee "$RESULTS"
fi

# ================================================================ scale (issue #13)
if [[ " $PARTS " == *" scale "* ]]; then
SMALL=$BENCH_DIR/scenario-20.yaml
HUGE=$BENCH_DIR/scenario-1m.yaml
"$GLMOCK" check "$SMALL" >/dev/null || die "bench scenario $SMALL does not load"

# mutate.py URL TOKEN JOB REPS -> "retry_ms cancel_ms": sequential retry -> cancel chain on
# one keep-alive connection (each retry answers a new job, which is then canceled and
# retried); medians of per-request wall time.
cat >"$WORK/mutate.py" <<'PY'
import http.client, json, statistics, sys, time
url, token, job, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host = url[len("http://"):]
c = http.client.HTTPConnection(host, timeout=30)
def post(path):
    t0 = time.perf_counter()
    c.request("POST", path, headers={"PRIVATE-TOKEN": token, "Content-Length": "0"})
    r = c.getresponse()
    body = r.read()
    dt = (time.perf_counter() - t0) * 1000
    if r.status != 201:
        sys.exit(f"POST {path}: {r.status} {body[:300]!r}")
    return dt, json.loads(body)
retry, cancel = [], []
for _ in range(reps):
    dt, j = post(f"/api/v4/projects/1/jobs/{job}/retry")
    retry.append(dt)
    job = j["id"]
    dt, _ = post(f"/api/v4/projects/1/jobs/{job}/cancel")
    cancel.append(dt)
print(f"{statistics.median(retry):.3f} {statistics.median(cancel):.3f}")
PY

# The mutating workload for wrk: each thread (one connection) retries its job, cancels the
# new job, retries that one, and so on.
cat >"$WORK/mutate.lua" <<'LUA'
local threads = {}
local starts = {}
for s in string.gmatch(os.getenv("BENCH_JOBS") or "1", "%d+") do starts[#starts + 1] = s end
local n = 0
function setup(thread)
    n = n + 1
    thread:set("job", starts[(n - 1) % #starts + 1])
end
local phase = "retry"
function request()
    local path = "/api/v4/projects/1/jobs/" .. job .. "/" .. phase
    return wrk.format("POST", path, { ["PRIVATE-TOKEN"] = "glpat-bench", ["Content-Length"] = "0" })
end
function response(status, headers, body)
    if phase == "retry" then
        local id = string.match(body, '^{"id":(%d+)')
        if id then job = id end
        phase = "cancel"
    else
        phase = "retry"
    end
end
LUA

# wrk_mutate NAME SCENARIO JOBS : BENCH_REPEATS runs of the mutating workload (one thread and
# connection per job), each on a freshly started server (a run retries the jobs it starts
# from); keeps the medians. Sets RPS (mutations/s) and CPU_US (server CPU µs per mutation).
wrk_mutate() {
    local name=$1 scen=$2 jobs=$3 rep threads
    threads=$(wc -w <<<"$jobs")
    local -a rates=() cpus=()
    for ((rep = 1; rep <= REPEATS; rep++)); do
        start_server "$name-$rep" "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$scen"
        local pid=$SERVER_PID out=$WORK/wrkm-$name-$rep.txt before after reqs rps non
        before=$(cpu_ticks "$pid")
        BENCH_JOBS="$jobs" "${PIN_CLIENT[@]}" wrk -t"$threads" -c"$threads" -d"${SECONDS_RUN}s" -s "$WORK/mutate.lua" "$SERVER_URL" >"$out"
        after=$(cpu_ticks "$pid")
        stop_server "$pid"
        reqs=$(awk '/requests in/ { print $1 }' "$out")
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
        non=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
        ((${non:-0} == 0)) || die "$name had $non non-2xx responses: the retry -> cancel chain broke"
        rates+=("$rps")
        cpus+=("$(python3 -c "print(f'{($after - $before) / $CLK_TCK * 1e6 / $reqs:.1f}')")")
        log "$name run $rep/$REPEATS: $rps mutations/s, ${cpus[-1]} µs CPU/mutation"
    done
    RPS[$name]=$(printf '%s\n' "${rates[@]}" | python3 -c 'import statistics,sys; print(f"{statistics.median(float(l) for l in sys.stdin):.1f}")')
    CPU_US[$name]=$(printf '%s\n' "${cpus[@]}" | python3 -c 'import statistics,sys; print(f"{statistics.median(float(l) for l in sys.stdin):.1f}")')
}

# sessions.py URL N JOB : one retry in each of N new sessions.
cat >"$WORK/sessions.py" <<'PY'
import http.client, sys
url, n, job = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection(url[len("http://"):], timeout=30)
for i in range(n):
    c.request("POST", f"/-/sessions/m{i}/api/v4/projects/1/jobs/{job}/retry",
              headers={"PRIVATE-TOKEN": "glpat-bench", "Content-Length": "0"})
    r = c.getresponse()
    r.read()
    if r.status != 201:
        sys.exit(f"session m{i}: {r.status}")
PY

MUT_REPS=${BENCH_MUTATIONS:-300}
declare -A RETRY_MS CANCEL_MS
for size in small big; do
    if [[ $size == small ]]; then scen=$SMALL job=1 jobs="1 2 4 5"; else scen=$SCENARIO job=50001 jobs="50001 50201 50601 50801"; fi
    log "mutations, $size scenario"
    start_server "mut-$size" "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$scen"
    read -r RETRY_MS[$size] CANCEL_MS[$size] < <("${PIN_CLIENT[@]}" python3 "$WORK/mutate.py" "$SERVER_URL" "$TOKEN" "$job" "$MUT_REPS") ||
        die "mutation latency failed"
    stop_server "$SERVER_PID"
    wrk_mutate "mut-$size" "$scen" "$jobs"
done

log "1,000 sessions with one mutation each (100k jobs)"
start_server sessions "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO"
fetch "$SERVER_URL/api/v4/projects/1/jobs" "$WORK/s.body" "$WORK/s.headers"
RSS_S0=$(rss_kib "$SERVER_PID")
"${PIN_CLIENT[@]}" python3 "$WORK/sessions.py" "$SERVER_URL" 1000 50001 || die "sessions run failed"
RSS_S1=$(rss_kib "$SERVER_PID")
stop_server "$SERVER_PID"

log "lists: pipelines vs jobs, filtered vs unfiltered, 2- and 20-job pages (100k jobs)"
start_server lists "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$SCENARIO"
L=$SERVER_URL/api/v4/projects/1
P100="$L/pipelines?per_page=100"
J100="$L/jobs?per_page=100"
PF="$L/pipelines?status=success&order_by=updated_at&per_page=20"
PU="$L/pipelines?per_page=20"
J2="$L/jobs?per_page=2"
J20="$L/jobs?per_page=20"
# Running jobs carry durations written fresh for each response.
JR="$L/jobs?scope%5B%5D=running&per_page=20"
fetch "$J2" "$WORK/j2.body" "$WORK/j2.headers"
fetch "$J20" "$WORK/j20.body" "$WORK/j20.headers"
fetch "$JR" "$WORK/jr.body" "$WORK/jr.headers"
N_JR=$(python3 -c 'import json,sys; print(sum(j["status"] == "running" for j in json.load(open(sys.argv[1]))))' "$WORK/jr.body")
((N_JR == 20)) || die "the running jobs page has $N_JR running jobs, expected 20"
fetch "$PF" "$WORK/pf.body" "$WORK/pf.headers"
N_PF=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/pf.body")
((N_PF == 20)) || die "the filtered pipelines page has $N_PF items, expected 20"
for t in P100 J100 PF PU J2 J20 JR; do wrk_run "$t" "${!t}" "$SERVER_PID"; done
stop_server "$SERVER_PID"
for target in j2 j20 jr; do
    mapfile -d '' -t EXTRA < <(bare_args "$WORK/$target.headers")
    start_server "bare-$target" "${PIN_SERVER[@]}" "$BARE" --listen 127.0.0.1:0 --body "$WORK/$target.body" "${EXTRA[@]}"
    wrk_run "bare-$target" "$SERVER_URL/api/v4/projects/1/jobs" "$SERVER_PID"
    stop_server "$SERVER_PID"
done

log "1,000,000 jobs: load, RSS, keyset first page vs near the end"
read -r LD1_MED LD1_MAX LD1_RSS LD1_CPU < <(startup 3 /api/v4/projects/1/jobs "$TOKEN" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$HUGE") ||
    die "1M load measurement failed"
START_TIMEOUT=120 start_server huge "${PIN_SERVER[@]}" "$GLMOCK" serve --listen 127.0.0.1:0 --scenario "$HUGE"
H=$SERVER_URL/api/v4/projects/1/jobs
HK1="$H?pagination=keyset&per_page=20"
HKD="$H?pagination=keyset&per_page=20&cursor=$(cursor 21)"
fetch "$HKD" "$WORK/hkd.body" "$WORK/hkd.headers"
H_FIRST=$(latency_ms "$HK1")
H_DEEP=$(latency_ms "$HKD")
wrk_run HK1 "$HK1" "$SERVER_PID"
wrk_run HKD "$HKD" "$SERVER_PID"
H_RSS=$(rss_kib "$SERVER_PID")
stop_server "$SERVER_PID"

r() { ratio "$1" "$2"; }
R_RETRY=$(r "${RETRY_MS[big]}" "${RETRY_MS[small]}")
R_CANCEL=$(r "${CANCEL_MS[big]}" "${CANCEL_MS[small]}")
R_MUTCPU=$(r "${CPU_US[mut-big]}" "${CPU_US[mut-small]}")
R_MUTRATE=$(r "${RPS[mut-big]}" "${RPS[mut-small]}")
S_ADDED=$(python3 -c "print(f'{($RSS_S1 - $RSS_S0) / 1024:.1f}')")
R_P100=$(r "${CPU_US[P100]}" "${CPU_US[J100]}")
R_PF=$(r "${CPU_US[PF]}" "${CPU_US[PU]}")
R_J2=$(r "${CPU_US[J2]}" "${CPU_US[bare-j2]}")
R_J20=$(r "${CPU_US[J20]}" "${CPU_US[bare-j20]}")
R_JR=$(r "${CPU_US[JR]}" "${CPU_US[bare-jr]}")
R_HK=$(r "$H_DEEP" "$H_FIRST")
R_HKCPU=$(r "${CPU_US[HKD]}" "${CPU_US[HK1]}")
{
    echo
    echo "## Scale (issue #13) — $(date -u +%Y-%m-%dT%H:%MZ), glmock $GIT_REV"
    echo
    echo "Same machine and pinning as above (server on core 0, clients on core 1). Every ratio compares two"
    echo "figures of this run. Medians: $REPEATS wrk runs of ${SECONDS_RUN}s for the mutating workload, $MUT_REPS retry → cancel"
    echo "pairs for latency, $LAT_REPS curl requests for the 1M-job pages. Small scenario: bench/scenario-20.yaml"
    echo "(20 jobs); big: bench/scenario.yaml (100,000 jobs); huge: bench/scenario-1m.yaml (1,000,000 jobs)."
    echo
    echo "| Measure | 20 jobs | 100,000 jobs | ratio | target | before (issue) |"
    echo "|---|---:|---:|---:|---|---|"
    echo "| retry, median latency (1 connection) | ${RETRY_MS[small]} ms | ${RETRY_MS[big]} ms | $R_RETRY $(verdict "$R_RETRY" le 1.5) | ≤ 1.5× | 0.47 ms vs 14.8–36 ms (≈ 31×) |"
    echo "| cancel, median latency (1 connection) | ${CANCEL_MS[small]} ms | ${CANCEL_MS[big]} ms | $R_CANCEL $(verdict "$R_CANCEL" le 1.5) | ≤ 1.5× | |"
    echo "| retry → cancel loop, 4 connections: mutations/s | ${RPS[mut-small]} | ${RPS[mut-big]} | $R_MUTRATE $(verdict "$R_MUTRATE" ge 0.8) | ≥ 0.8× | 612/s vs 35/s (0.06×) |"
    echo "| same, server CPU µs per mutation | ${CPU_US[mut-small]} | ${CPU_US[mut-big]} | $R_MUTCPU | | |"
    echo
    echo "| Measure | value | target | before (issue) |"
    echo "|---|---:|---|---|"
    echo "| 1,000 sessions × 1 retry on 100k jobs: RSS added | $S_ADDED MiB ($(python3 -c "print(f'{$RSS_S0/1024:.0f} → {$RSS_S1/1024:.0f}')") MiB) $(verdict "$S_ADDED" le 50) | ≤ 50 MiB | 3.7 GB |"
    echo "| \`pipelines?per_page=100\` / \`jobs?per_page=100\`, CPU µs/request | ${CPU_US[P100]} / ${CPU_US[J100]} = $R_P100 $(verdict "$R_P100" le 1.2) | ≤ 1.2× | ≈ 850 / 105 µs (8×) |"
    echo "| \`pipelines?status=success&order_by=updated_at&per_page=20\` / \`pipelines?per_page=20\`, CPU µs | ${CPU_US[PF]} / ${CPU_US[PU]} = $R_PF $(verdict "$R_PF" le 1.5) | ≤ 1.5× | 245 µs filtered |"
    echo "| 2-job page / bare hyper (same bytes), CPU µs/request | ${CPU_US[J2]} / ${CPU_US[bare-j2]} = $R_J2 $(verdict "$R_J2" le 2) | ≤ 2× | ≈ 3.6× |"
    echo "| 20-job page / bare hyper (same bytes), CPU µs/request | ${CPU_US[J20]} / ${CPU_US[bare-j20]} = $R_J20 $(verdict "$R_J20" le 1.5) | ≤ 1.5× | 1.7–2.7× |"
    echo "| 20 running jobs (\`jobs?scope[]=running&per_page=20\`) / bare hyper (same bytes), CPU µs/request | ${CPU_US[JR]} / ${CPU_US[bare-jr]} = $R_JR | | |"
    echo "| 1,000,000 jobs: exec → first 200 on the jobs list (median of 3) | $LD1_MED ms (max $LD1_MAX) wall, $LD1_CPU ms server CPU $(verdict "$LD1_CPU" le 2000) | ≤ 2 s | |"
    echo "| 1,000,000 jobs: RSS after load / after the page benchmarks | $LD1_RSS MiB / $(python3 -c "print(f'{$H_RSS/1024:.0f}')") MiB $(verdict "$(python3 -c "print($H_RSS/1024)")" le 1024) | ≤ 1 GB | |"
    echo "| 1,000,000 jobs: keyset page near the end / first page, curl median | $H_DEEP / $H_FIRST ms = $R_HK $(verdict "$R_HK" le 1.2) | ≤ 1.2× | |"
    echo "| 1,000,000 jobs: same, server CPU µs/request | ${CPU_US[HKD]} / ${CPU_US[HK1]} = $R_HKCPU $(verdict "$R_HKCPU" le 1.2) | ≤ 1.2× | |"
    echo
    echo "Reference, bare hyper on the 2-job and 20-job bodies: ${RPS[bare-j2]} and ${RPS[bare-j20]} req/s; glmock: ${RPS[J2]} and ${RPS[J20]} req/s."
} | if [[ " $PARTS " == *" base "* ]]; then tee -a "$RESULTS"; else tee "$RESULTS"; fi
fi
log "written to $RESULTS"
