# Shared by .ci/ferretdb.sh and .ci/toxiproxy.sh (sourced, not run): a server started in
# the background with its pid file and log in a data folder, waited for until a probe
# answers, and stopped by its pid file. The sourcing script sets SERVICE (its name).

log() { printf '[%s.sh %s] %s\n' "$SERVICE" "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[%s.sh] ERROR: %s\n' "$SERVICE" "$*" >&2; exit 1; }

# wait_ready PID DATA_DIR TIMEOUT_S WHAT PROBE [ARGS...]: return once PROBE ARGS succeeds;
# die (with the log's tail, and the server stopped) if PID exits first or time runs out.
wait_ready() {
    local pid=$1 data_dir=$2 timeout_s=$3 what=$4
    shift 4
    local logfile=$data_dir/$SERVICE.log
    local deadline=$((SECONDS + timeout_s))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$logfile" >&2 || true
            rm -f "$data_dir/$SERVICE.pid"
            die "$SERVICE (pid $pid) exited before $what; log above"
        fi
        if "$@"; then
            log "$what"
            return 0
        fi
        sleep 0.25
    done
    tail -n 30 "$logfile" >&2 || true
    cmd_stop "$data_dir" || true
    die "$SERVICE: no sign that it $what within ${timeout_s}s; log above"
}

# cmd_stop DATA_DIR: TERM the server started with DATA_DIR, KILL it after 5 s.
cmd_stop() {
    [[ $# -eq 1 ]] || die "usage: $0 stop DATA_DIR"
    local pidfile=$1/$SERVICE.pid pid
    if [[ ! -f $pidfile ]]; then
        log "no pid file in $1; nothing to stop"
        return 0
    fi
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || die "bad pid file $pidfile"
    if kill -TERM "$pid" 2>/dev/null; then
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid still alive after TERM; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
    log "stopped pid $pid"
}

# dispatch SUBCOMMAND ARGS...: run cmd_install, cmd_start or cmd_stop.
dispatch() {
    local sub=${1:-}
    shift || true
    case $sub in
        install) cmd_install "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        *) die "usage: $0 {install|start DATA_DIR PORT|stop DATA_DIR}" ;;
    esac
}
