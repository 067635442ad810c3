#!/usr/bin/env bash
# Container test: the image as users run it, with a real engine.
#
#   bash tests/container/run.sh            (DOCKER=docker by default; any docker-compatible CLI)
#
# 1. builds the image from the top-level Dockerfile (and checks its labels and size),
# 2. starts it with fixtures/examples/showcase.yaml mounted at /scenarios, measures the time
#    from `docker run` to the first HTTP 200 and waits until the engine reports it healthy,
# 3. runs the python-gitlab smoke test (tests/smoke/python_gitlab_smoke.py) against it
#    through a session URL (/-/sessions/container),
# 4. checks the health check (the HEALTHCHECK's own runs, `glmock healthcheck` and
#    `/bin/sh -c "glmock healthcheck"` as --health-cmd runs it),
# 5. `docker stop` while a request is in flight: it must be answered, the exit code 0, and
#    the stop take under a second,
# 6. starts it with a broken scenario: it must exit 2 with the located error in `docker logs`.
#
# Environment: DOCKER (CLI, default docker), IMAGE (tag, default glmock-container-test:latest),
# HOST_PORT (default: a free port), KEEP_IMAGE=1 (do not remove the image at the end),
# BUILD_ARGS (extra `docker build` arguments). The python-gitlab venv is shared with
# tests/smoke/run.sh (${TMPDIR:-/tmp}/glmock-smoke-venv-*).
# Exit 0 when every check passed, 1 when one failed, 2 when the engine is not usable.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DOCKER=${DOCKER:-docker}
IMAGE=${IMAGE:-glmock-container-test:latest}
tmp="${TMPDIR:-/tmp}"
work="$(mktemp -d "$tmp/glmock-container.XXXXXX")"
containers=()
failures=0

say() { echo "[container] $*"; }
ok() { say "ok    $*"; }
fail() { say "FAIL  $*"; failures=$((failures + 1)); }
now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%d", (b-a)*1000}'; }
# .State.StartedAt / .State.FinishedAt of a container as seconds since the epoch: when the
# engine started glmock, when glmock exited (without the engine's own set-up and clean-up).
state_time() {
    python3 -c 'import sys, datetime as d; t = sys.argv[1].rstrip("Z"); whole, _, frac = t.partition("."); print(d.datetime.fromisoformat(whole).replace(tzinfo=d.timezone.utc).timestamp() + float("0." + (frac or "0")))' \
        "$("$DOCKER" inspect -f "{{.State.$2}}" "$1")"
}

cleanup() {
    for c in "${containers[@]}"; do "$DOCKER" rm -f "$c" >/dev/null 2>&1 || true; done
    if [[ "${KEEP_IMAGE:-0}" != 1 ]]; then "$DOCKER" rmi "$IMAGE" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$DOCKER" info >/dev/null 2>&1; then
    say "no container engine answers to '$DOCKER info'"
    exit 2
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=${HOST_PORT:-$(free_port)}
url="http://127.0.0.1:$port"

# --- 1. build ------------------------------------------------------------------------------
say "building $IMAGE with $("$DOCKER" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
t0=$(now)
# shellcheck disable=SC2086
if ! "$DOCKER" build -t "$IMAGE" ${BUILD_ARGS:-} "$root" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    say "FAIL  docker build"
    exit 1
fi
say "built in $(ms "$t0" "$(now)") ms"
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
say "image size: $(awk -v s="$size" 'BEGIN{printf "%.1f MB (%d bytes)", s/1e6, s}')"
# The goal is 20 MB (16.8 MB measured on 4 December 2026): a larger image fails.
if [[ $size -le 20000000 ]]; then
    ok "image size is at most 20 MB (the goal)"
else
    fail "image size $size bytes > 20 MB (the goal)"
fi
crate_version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
label() { "$DOCKER" image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$IMAGE"; }
[[ "$(label version)" == "$crate_version" ]] && ok "label version = $crate_version" \
    || fail "label version '$(label version)' is not Cargo.toml's $crate_version"
[[ "$(label licenses)" == "MIT OR Apache-2.0" ]] && ok "label licenses" || fail "label licenses '$(label licenses)'"
[[ -n "$(label source)" ]] && ok "label source $(label source)" || fail "no source label"
[[ "$("$DOCKER" image inspect -f '{{.Config.User}}' "$IMAGE")" == 65532:65532 ]] \
    && ok "runs as 65532:65532" || fail "user is '$("$DOCKER" image inspect -f '{{.Config.User}}' "$IMAGE")'"

# --- 2. start with the showcase at /scenarios ----------------------------------------------
scen="$work/scenarios"
mkdir -p "$scen"
cp "$root/fixtures/examples/showcase.yaml" "$scen/"
chmod 0755 "$work" "$scen"
chmod 0644 "$scen/showcase.yaml"

t_run=$(now)
cid=$("$DOCKER" run -d -p "127.0.0.1:$port:8080" -v "$scen:/scenarios:ro" "$IMAGE")
t_returned=$(now)
containers+=("$cid")
first200=""
for _ in $(seq 1 1000); do
    if curl -sf -o /dev/null --max-time 1 "$url/-/glmock/health"; then first200=$(now); break; fi
    sleep 0.005
done
if [[ -z "$first200" ]]; then
    "$DOCKER" logs "$cid" 2>&1 | tail -20
    fail "no HTTP 200 on /-/glmock/health"
    exit 1
fi
# The engine's own work (create, network, port proxy) is part of `docker run`; the
# container's start is .State.StartedAt, when the engine started glmock.
started_at=$(state_time "$cid" StartedAt)
start_ms=$(ms "$started_at" "$first200")
say "docker run returned after $(ms "$t_run" "$t_returned") ms; container start -> first HTTP 200: $start_ms ms; docker run -> first HTTP 200: $(ms "$t_run" "$first200") ms"
[[ $start_ms -le 300 ]] && ok "container start to first answer within 300 ms" || fail "container start to first answer took $start_ms ms"
healthy=""
for _ in $(seq 1 300); do
    if [[ "$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$cid")" == healthy ]]; then healthy=$(now); break; fi
    sleep 0.05
done
[[ -n "$healthy" ]] && ok "engine reports healthy after $(ms "$t_run" "$healthy") ms (HEALTHCHECK every 2 s)" \
    || fail "never healthy: $("$DOCKER" inspect -f '{{json .State.Health}}' "$cid")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'PRIVATE-TOKEN: glpat-alice' "$url/api/v4/projects/group%2Fproject")
[[ $code == 200 ]] && ok "the mounted showcase is served" || fail "GET group/project: $code"

# --- 3. python-gitlab smoke test through a session URL -------------------------------------
requirements="$root/tests/smoke/requirements.txt"
req_hash="$( { cat "$requirements"; python3 --version; } | sha256sum | cut -c1-12)"
venv="$tmp/glmock-smoke-venv-$req_hash"
if [[ ! -f "$venv/.installed" ]]; then
    say "creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.installed"
fi
if "$venv/bin/python" "$root/tests/smoke/python_gitlab_smoke.py" "$url/-/sessions/container" >"$work/smoke.log" 2>&1; then
    ok "python-gitlab smoke test: $(tail -1 "$work/smoke.log")"
else
    grep -v '^  ok' "$work/smoke.log" | tail -30
    fail "python-gitlab smoke test: $(tail -1 "$work/smoke.log")"
fi

# --- 4. the health check -------------------------------------------------------------------
last=$("$DOCKER" inspect -f '{{json .State.Health}}' "$cid" \
    | python3 -c 'import json, sys; e = json.load(sys.stdin)["Log"][-1]; print(e["ExitCode"], e["Output"].strip())')
[[ "$last" == "0 healthy: {\"status\":\"ok\""* ]] && ok "HEALTHCHECK runs answer: ${last:0:60}…" || fail "HEALTHCHECK log: $last"
if out=$("$DOCKER" exec "$cid" glmock healthcheck); then ok "docker exec glmock healthcheck: ${out:0:40}…"; else fail "glmock healthcheck in the container: $out"; fi
if out=$("$DOCKER" exec "$cid" /bin/sh -c "glmock healthcheck"); then ok "/bin/sh -c \"glmock healthcheck\" (--health-cmd) works"; else fail "--health-cmd form: $out"; fi
rc=0; "$DOCKER" exec "$cid" /bin/sh -c "ls /" >/dev/null 2>&1 || rc=$?
[[ $rc == 127 ]] && ok "no shell otherwise (exit 127)" || fail "/bin/sh -c ls exited $rc"
rc=0; "$DOCKER" exec "$cid" glmock healthcheck --listen 127.0.0.1:9 >/dev/null 2>&1 || rc=$?
[[ $rc == 1 ]] && ok "healthcheck against a closed port exits 1" || fail "healthcheck on a closed port exited $rc"

# --- 5. docker stop: exit 0 within a second, idle and with a request in flight --------------
iport=$(free_port)
iid=$("$DOCKER" run -d -p "127.0.0.1:$iport:8080" "$IMAGE")
containers+=("$iid")
for _ in $(seq 1 1000); do curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$iport/-/glmock/health" && break; sleep 0.005; done
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'PRIVATE-TOKEN: glpat-root' "http://127.0.0.1:$iport/api/v4/projects/foo%2Fbar")
[[ $code == 200 ]] && ok "nothing mounted: the embedded default scenario" || fail "default scenario: GET foo/bar $code"
t_stop=$(now)
"$DOCKER" stop -t 10 "$iid" >/dev/null
idle_wall_ms=$(ms "$t_stop" "$(now)")
idle_stop_ms=$(ms "$t_stop" "$(state_time "$iid" FinishedAt)")
iexit=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$iid")
say "docker stop (idle) -> glmock exited: $idle_stop_ms ms (docker stop returned after $idle_wall_ms ms), exit code $iexit"
[[ $iexit == 0 && $idle_stop_ms -lt 1000 ]] && ok "idle: exit code 0 within 1 s" || fail "idle stop: exit $iexit after $idle_stop_ms ms"

# A slow client: the request's body arrives after the stop signal, so the request is in flight
# when SIGTERM lands; the server must still answer it.
python3 - "$port" "$work/inflight.sent" >"$work/inflight.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /-/sessions/inflight/api/v4/projects/10/pipeline HTTP/1.1\r\nHost: x\r\n"
          b"PRIVATE-TOKEN: glpat-alice\r\nContent-Type: application/x-www-form-urlencoded\r\n"
          b"Content-Length: 8\r\n\r\n")
open(sys.argv[2], "w").close()  # the headers are out: now stop the container
time.sleep(0.25)
s.sendall(b"ref=main")
s.settimeout(5)
print(s.recv(200).split(b"\r\n")[0].decode())
EOF
inflight=$!
for _ in $(seq 1 200); do [[ -f "$work/inflight.sent" ]] && break; sleep 0.02; done
sleep 0.05
t_stop=$(now)
"$DOCKER" stop -t 10 "$cid" >/dev/null
wall_ms=$(ms "$t_stop" "$(now)")
stop_ms=$(ms "$t_stop" "$(state_time "$cid" FinishedAt)")
wait "$inflight" || true
exit_code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$cid")
say "docker stop (a request in flight) -> glmock exited: $stop_ms ms (docker stop returned after $wall_ms ms), exit code $exit_code"
[[ $exit_code == 0 ]] && ok "exit code 0 on docker stop" || fail "exit code $exit_code on docker stop"
[[ $stop_ms -lt 1000 ]] && ok "stopped within 1 s" || fail "docker stop took $stop_ms ms"
[[ "$(cat "$work/inflight.out")" == "HTTP/1.1 201 Created" ]] && ok "the in-flight request was answered" \
    || fail "in-flight request: $(cat "$work/inflight.out")"
# Read the logs whole first: `docker logs | grep -q` under pipefail fails when grep stops
# reading at its match and docker logs, still writing, gets SIGPIPE.
clogs=$("$DOCKER" logs "$cid" 2>&1)
if grep -q "shutting down" <<<"$clogs"; then
    ok "logged its shutdown"
else
    fail "no shutdown in the logs; their end: $(tail -5 <<<"$clogs")"
fi

# --- 6. a broken scenario: exit 2 and the located error ------------------------------------
bad="$work/bad"
mkdir -p "$bad"
cp "$scen/showcase.yaml" "$bad/10-showcase.yaml"
printf 'projects:\n  - id: 77\n    path: x/y\n    pipelines:\n      - id: 1\n        jobs:\n          - {id: 2, name: n, status: bogus}\n' >"$bad/20-broken.yaml"
chmod 0755 "$bad"; chmod 0644 "$bad"/*.yaml
bid=$("$DOCKER" run -d -v "$bad:/scenarios:ro" "$IMAGE")
containers+=("$bid")
bexit=$("$DOCKER" wait "$bid")
blogs=$("$DOCKER" logs "$bid" 2>&1)
[[ $bexit == 2 ]] && ok "a broken scenario exits 2" || fail "a broken scenario exited $bexit"
if grep -q '/scenarios/20-broken.yaml:7:[0-9]*: projects\[0\].pipelines\[0\].jobs\[0\].status: "bogus" is not allowed' <<<"$blogs"; then
    ok "docker logs: $(grep -o '/scenarios/20-broken.yaml:[^(]*' <<<"$blogs" | head -1)"
else
    echo "$blogs" | tail -10
    fail "the located error is not in docker logs"
fi

say "summary: image $(awk -v s="$size" 'BEGIN{printf "%.1f MB", s/1e6}'), container start to first 200 $start_ms ms, docker stop $idle_stop_ms ms idle / $stop_ms ms with a request in flight, $failures failure(s)"
[[ $failures == 0 ]] && { say "PASS"; exit 0; }
say "FAIL"
exit 1
