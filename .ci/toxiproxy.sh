#!/usr/bin/env bash
# Toxiproxy (a TCP proxy that injects faults) for the fault tests of the suite.
#
#   bash .ci/toxiproxy.sh install             # make $CIREC_TOOLS/bin/toxiproxy-server (v2.5.0)
#   bash .ci/toxiproxy.sh start DATA_DIR PORT # API on 127.0.0.1:PORT, wait until it answers
#   bash .ci/toxiproxy.sh stop DATA_DIR       # stop the instance started with DATA_DIR
#
# The tests create their proxies through the API (CIREC_TOXIPROXY_URL); every proxy
# listens on 127.0.0.1 only. Environment: CIREC_TOOLS (default $HOME/.cache/cirec-tools),
# PYTHON (default python3, for the readiness probe).
set -euo pipefail

TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2
TOXIPROXY_VERSION=v2.5.0
CIREC_TOOLS=${CIREC_TOOLS:-$HOME/.cache/cirec-tools}
TOXIPROXY_BIN=$CIREC_TOOLS/bin/toxiproxy-server
START_TIMEOUT_S=30

SERVICE=toxiproxy
# shellcheck source=.ci/service.sh
source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

# True if binary $1 exists and reports the pinned version.
is_good_binary() {
    [[ -x $1 ]] && "$1" -version 2>&1 | grep -qx "toxiproxy-server version $TOXIPROXY_VERSION"
}

cmd_install() {
    if is_good_binary "$TOXIPROXY_BIN"; then
        log "cached: $TOXIPROXY_BIN is $TOXIPROXY_VERSION"
        return 0
    fi
    command -v go >/dev/null || die "go is not installed"
    mkdir -p "$CIREC_TOOLS/bin"
    local tmp
    tmp=$(mktemp -d)
    # The version is stamped in at link time, as the project's own release build does.
    log "go install $TOXIPROXY_MODULE/cmd/server@$TOXIPROXY_VERSION"
    GOBIN="$tmp" go install \
        -ldflags "-X $TOXIPROXY_MODULE.Version=$TOXIPROXY_VERSION" \
        "$TOXIPROXY_MODULE/cmd/server@$TOXIPROXY_VERSION"
    mv -f "$tmp/server" "$TOXIPROXY_BIN"
    rm -rf "$tmp"
    is_good_binary "$TOXIPROXY_BIN" \
        || die "$TOXIPROXY_BIN does not report $TOXIPROXY_VERSION: $("$TOXIPROXY_BIN" -version 2>&1 | head -n 1)"
    log "$("$TOXIPROXY_BIN" -version) at $TOXIPROXY_BIN"
}

# True if the API on 127.0.0.1:$1 answers /version.
api_answers() {
    "${PYTHON:-python3}" -c '
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%d/version" % int(sys.argv[1]), timeout=1).read()
' "$1" </dev/null >/dev/null 2>&1
}

cmd_start() {
    [[ $# -eq 2 ]] || die "usage: $0 start DATA_DIR PORT"
    local data_dir=$1 port=$2
    [[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
    is_good_binary "$TOXIPROXY_BIN" || die "$TOXIPROXY_BIN missing or wrong version; run: $0 install"
    mkdir -p "$data_dir"
    data_dir=$(cd "$data_dir" && pwd)
    local logfile=$data_dir/toxiproxy.log pidfile=$data_dir/toxiproxy.pid

    # Same process group as the caller, like FerretDB: a killed CI run ends it too.
    "$TOXIPROXY_BIN" -host 127.0.0.1 -port "$port" </dev/null >>"$logfile" 2>&1 &
    local pid=$!
    echo "$pid" >"$pidfile"
    log "started pid $pid, API on 127.0.0.1:$port (log $logfile)"

    wait_ready "$pid" "$data_dir" "$START_TIMEOUT_S" "API answers on 127.0.0.1:$port" \
        api_answers "$port"
}

dispatch "$@"
