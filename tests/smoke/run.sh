#!/usr/bin/env bash
# Smoke test with real clients: starts glmock on the showcase scenario and drives it with
# python-gitlab (tests/smoke/python_gitlab_smoke.py), then, against the same server, with
# @gitbeaker/rest (tests/smoke/gitbeaker/smoke.mjs, Node.js 18+; it uses its own sessions).
# After each client's smoke test, its retry logic meets fault rules
# (python_gitlab_faults.py, gitbeaker/faults.mjs; each in sessions of its own).
#
#   bash tests/smoke/run.sh [path/to/glmock]      (default: target/release/glmock)
#
# The venv lives under ${TMPDIR:-/tmp} and is reused while requirements.txt is unchanged;
# tests/smoke/gitbeaker/node_modules is installed with `npm ci` from package-lock.json and
# reused while the lock file (and the Node.js version) is unchanged.
# Exits 0 when every step of both clients passed, 1 when a step failed, 2 on setup errors
# (no glmock binary, no node/npm, the server did not start).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
scenario="$root/fixtures/examples/showcase.yaml"
requirements="$here/requirements.txt"

# The binary: as given (relative to the current directory), else relative to the repo root.
bin="${1:-target/release/glmock}"
if [[ ! -x "$bin" && "$bin" != /* && -x "$root/$bin" ]]; then
    bin="$root/$bin"
fi
if [[ ! -x "$bin" ]]; then
    echo "run.sh: no glmock binary at '$bin' (build it with: cargo build --release)" >&2
    exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

# --- python-gitlab in a venv, cached by the hash of requirements.txt ----------------------
tmp="${TMPDIR:-/tmp}"
req_hash="$( { cat "$requirements"; python3 --version; } | sha256sum | cut -c1-12)"
venv="$tmp/glmock-smoke-venv-$req_hash"
if [[ ! -f "$venv/.installed" ]]; then
    echo "::: creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.installed"
fi
"$venv/bin/python" -c 'import gitlab; print("::: python-gitlab", gitlab.__version__)'

# --- glmock on a free port ---------------------------------------------------------------
work="$(mktemp -d "$tmp/glmock-smoke.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_server_log() {
    echo "--- glmock stderr (last 40 lines) ---" >&2
    tail -n 40 "$work/server.err" >&2 || true
}

"$bin" serve --listen 127.0.0.1:0 --scenario "$scenario" --log-level warn \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

# The bound URL is the first line on stdout; wait up to 10 s for a complete line.
url=""
for _ in $(seq 1 100); do
    if [[ -s "$work/server.out" && "$(wc -l <"$work/server.out")" -ge 1 ]]; then
        url="$(head -n 1 "$work/server.out")"
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "run.sh: glmock exited before printing its URL" >&2
        show_server_log
        exit 2
    fi
    sleep 0.1
done
if [[ ! "$url" =~ ^https?:// ]]; then
    echo "run.sh: glmock printed no URL within 10 s (got '$url')" >&2
    show_server_log
    exit 2
fi
echo "::: glmock $("$bin" --version | awk '{print $2}') listening on $url"

# --- python-gitlab -------------------------------------------------------------------------
rc=0
"$venv/bin/python" "$here/python_gitlab_smoke.py" "$url" || rc=$?
# python-gitlab's retries against fault rules (its own sessions; Retry-After of 1 s at most).
faults_rc=0
"$venv/bin/python" "$here/python_gitlab_faults.py" "$url" || faults_rc=$?
if [[ $faults_rc -gt $rc ]]; then rc=$faults_rc; fi

# --- @gitbeaker/rest, same server ---------------------------------------------------------
gitbeaker="$here/gitbeaker"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "run.sh: the gitbeaker smoke test needs Node.js 18+ with npm (node or npm not found in PATH)" >&2
    [[ $rc -ne 0 ]] && show_server_log
    exit 2
fi
# `npm ci` wipes node_modules and reinstalls from package-lock.json: only when the lock file
# or the Node.js version changed since the last install.
lock_hash="$( { cat "$gitbeaker/package-lock.json"; node --version; } | sha256sum | cut -c1-12)"
stamp="$gitbeaker/node_modules/.glmock-smoke-installed"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]]; then
    echo "::: npm ci in $gitbeaker"
    if ! (cd "$gitbeaker" && npm ci --no-audit --no-fund --loglevel=error); then
        echo "run.sh: npm ci failed in $gitbeaker" >&2
        exit 2
    fi
    echo "$lock_hash" >"$stamp"
fi
gb_rc=0
(cd "$gitbeaker" && node smoke.mjs "$url") || gb_rc=$?
# gitbeaker's retries against fault rules (its own sessions).
gb_faults_rc=0
(cd "$gitbeaker" && node faults.mjs "$url") || gb_faults_rc=$?
if [[ $gb_faults_rc -gt $gb_rc ]]; then gb_rc=$gb_faults_rc; fi

if [[ $rc -ne 0 || $gb_rc -ne 0 ]]; then
    show_server_log
fi
if [[ $rc -eq 0 ]]; then
    rc=$gb_rc
elif [[ $gb_rc -gt $rc ]]; then
    rc=$gb_rc
fi
exit "$rc"
