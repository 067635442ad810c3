#!/usr/bin/env bash
# Smoke test with a real client: starts glmock on the showcase scenario and drives it with
# python-gitlab (tests/smoke/python_gitlab_smoke.py).
#
#   bash tests/smoke/run.sh [path/to/glmock]      (default: target/release/glmock)
#
# The venv lives under ${TMPDIR:-/tmp} and is reused while requirements.txt is unchanged.
# Exits with the Python script's exit code (0: every step passed).
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

# --- the smoke test ------------------------------------------------------------------------
rc=0
"$venv/bin/python" "$here/python_gitlab_smoke.py" "$url" || rc=$?
if [[ $rc -ne 0 ]]; then
    show_server_log
fi
exit "$rc"
