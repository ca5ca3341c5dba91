# Shared helpers of the test-server scripts (sourced). Every server runs on 127.0.0.1, on a free port, with its
# data and PID files in the directory it is given; `stop DIR` stops what `start DIR` started, by PID.
set -euo pipefail

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_for SECONDS COMMAND...: runs COMMAND until it succeeds, or fails after SECONDS.
wait_for() {
    local seconds=$1; shift
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if (( SECONDS >= deadline )); then return 1; fi
        sleep 0.2
    done
}

# stop_pids DIR: kills every process whose PID is in DIR/*.pid (TERM, then KILL after 10 s), and removes the files.
stop_pids() {
    local dir=$1 pid file
    for file in "$dir"/*.pid; do
        [[ -f $file ]] || continue
        pid=$(head -n 1 "$file")
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$file"
    done
}

# apt_install PACKAGE...: installs Debian packages that are missing (needs root and the package mirror).
apt_install() {
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    (( ${#missing[@]} == 0 )) && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing Debian packages: ${missing[*]} (install them: sudo apt-get install -y --no-install-recommends ${missing[*]})" >&2
        return 1
    fi
    echo "installing ${missing[*]} ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
}
