# Shared helpers of the test-server scripts (sourced). Every server runs on 127.0.0.1, on a free port, with its
# data and PID files in the directory it is given; `stop DIR` stops what `start DIR` started, by PID.
#
# `start DIR OWNER_PID` also starts a watchdog (tests/servers/watchdog) that runs `stop DIR` and removes DIR as soon
# as the process OWNER_PID is gone, however it ended (SIGKILL included), and ends by itself when DIR is removed.
# Without OWNER_PID nothing watches the servers: whoever started them stops them (./run-tests does, by PID, at its
# end, with `down`).
#
# Sourcing this file closes every file descriptor above 2 that the script inherited (see close_inherited_fds), so
# neither the script nor the servers and watchdog it starts keep open a file of the process that ran it: a run
# wrapped in `flock LOCKFILE dotnet test` would otherwise have its lock held for as long as a server lives.
set -euo pipefail
servers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# close_inherited_fds: closes this shell's file descriptors above 2 (bash's own 255, the script it reads, is
# close-on-exec and stays). What the shell then starts inherits only stdin, stdout and stderr.
close_inherited_fds() {
    local fd
    for fd in /proc/$$/fd/*; do
        fd=${fd##*/}
        if [[ $fd =~ ^[0-9]+$ ]] && (( fd > 2 && fd != 255 )); then eval "exec $fd>&-"; fi
    done
}
close_inherited_fds

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

# running PID: process PID exists and is not a zombie (an orphan's zombie lasts until init reaps it, which can take
# seconds; kill -0 succeeds on it).
running() {
    local stat
    { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != [ZX] ]]
}

# stop_pids DIR [GRACE]: sends TERM to every process whose PID is in DIR/*.pid, all at once, then KILL to those still
# running GRACE seconds later (default 10), and removes the files.
stop_pids() {
    local dir=$1 grace=${2:-10} pid file i pids=() left
    for file in "$dir"/*.pid; do
        [[ -f $file ]] || continue
        pid=$(head -n 1 "$file")
        if [[ $pid =~ ^[1-9][0-9]*$ ]] && running "$pid"; then kill "$pid" 2>/dev/null && pids+=("$pid"); fi
    done
    for (( i = 0; i < grace * 10 && ${#pids[@]} > 0; i++ )); do
        sleep 0.1
        left=()
        for pid in "${pids[@]}"; do if running "$pid"; then left+=("$pid"); fi; done
        pids=("${left[@]}")
    done
    if (( ${#pids[@]} )); then kill -9 "${pids[@]}" 2>/dev/null || true; fi
    rm -f "$dir"/*.pid
}

# start_watchdog OWNER_PID NAME DIR: with an OWNER_PID, starts `watchdog OWNER_PID $$ NAME DIR` in its own session
# (setsid: a signal to the test's process group does not reach it), stdin, stdout and stderr on /dev/null (the
# fds above 2 are closed already), and records its PID in DIR/watchdog (not *.pid: stop_pids does not stop it; it
# outlives a `stop DIR` to remove DIR once the owner is gone). A start script calls it before it starts any server,
# so a server started while the owner dies is stopped too.
start_watchdog() {
    local owner=$1 name=$2 dir=$3
    [[ -n $owner ]] || return 0
    [[ $owner =~ ^[1-9][0-9]*$ ]] || { echo "$name: OWNER_PID must be a process ID, not '$owner'" >&2; exit 2; }
    kill -0 "$owner" 2>/dev/null || { echo "$name: the owner process $owner is not running" >&2; exit 1; }
    # Started in the background by a shell without job control, setsid is no group leader: it does not fork, and $!
    # is the watchdog's PID.
    setsid "$servers_dir/watchdog" "$owner" "$$" "$name" "$dir" </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/watchdog"
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
