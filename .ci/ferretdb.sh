#!/usr/bin/env bash
# FerretDB (MongoDB wire protocol over embedded SQLite) for the test suite.
#
#   bash .ci/ferretdb.sh install            # make $CIREC_TOOLS/bin/ferretdb (v1.24.2)
#   bash .ci/ferretdb.sh start DATA_DIR PORT # run it on 127.0.0.1:PORT, wait for ping
#   bash .ci/ferretdb.sh stop DATA_DIR       # stop the instance started with DATA_DIR
#
# Environment: CIREC_TOOLS (default $HOME/.cache/cirec-tools), PYTHON (default
# python3; must have pymongo, used for the readiness ping).
set -euo pipefail

FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
CIREC_TOOLS=${CIREC_TOOLS:-$HOME/.cache/cirec-tools}
FERRETDB_BIN=$CIREC_TOOLS/bin/ferretdb
START_TIMEOUT_S=30

SERVICE=ferretdb
# shellcheck source=.ci/service.sh
source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

# Prints the version output of binary $1 (stdout+stderr), never fails.
version_of() {
    "$1" --version 2>&1 || true
}

# True if binary $1 exists and reports the pinned version.
is_good_binary() {
    [[ -x $1 ]] && version_of "$1" | grep -qx "version: $FERRETDB_VERSION"
}

INSTALL_TMP=
cleanup_install_tmp() {
    if [[ -n $INSTALL_TMP ]]; then
        # Module-cache copies are read-only until made writable.
        chmod -R u+w "$INSTALL_TMP" 2>/dev/null || true
        rm -rf "$INSTALL_TMP"
    fi
}

cmd_install() {
    if is_good_binary "$FERRETDB_BIN"; then
        log "cached: $FERRETDB_BIN is $FERRETDB_VERSION"
        return 0
    fi
    command -v go >/dev/null || die "go is not installed"
    mkdir -p "$CIREC_TOOLS/bin"

    INSTALL_TMP=$(mktemp -d)
    trap cleanup_install_tmp EXIT
    local tmp=$INSTALL_TMP

    # 1. The plain way.
    log "go install $FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION"
    if GOBIN="$tmp/gobin" go install "$FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION" \
        && is_good_binary "$tmp/gobin/ferretdb"; then
        mv -f "$tmp/gobin/ferretdb" "$FERRETDB_BIN"
        log "install path: go install worked"
    else
        local why="go install failed"
        if [[ -x $tmp/gobin/ferretdb ]]; then
            why=$(version_of "$tmp/gobin/ferretdb" | head -n 1)
        fi
        # 2. Fallback: the module zip lacks build/version/version.txt, so the
        # binary panics at start-up. Build from a copy of the module source
        # with that file written.
        log "go install binary unusable ($why); building from module source"
        go mod download "$FERRETDB_MODULE@$FERRETDB_VERSION"
        local modcache src
        modcache=$(go env GOMODCACHE)
        src="$modcache/github.com/!ferret!d!b/!ferret!d!b@$FERRETDB_VERSION"
        [[ -d $src ]] || die "module source not found at $src"
        cp -R "$src" "$tmp/src"
        chmod -R u+w "$tmp/src"
        printf '%s\n' "$FERRETDB_VERSION" >"$tmp/src/build/version/version.txt"
        (cd "$tmp/src" && go build -buildvcs=false -o "$FERRETDB_BIN.new" ./cmd/ferretdb)
        mv -f "$FERRETDB_BIN.new" "$FERRETDB_BIN"
        log "install path: fallback build from module source (go install binary said: $why)"
    fi

    is_good_binary "$FERRETDB_BIN" \
        || die "$FERRETDB_BIN does not report $FERRETDB_VERSION: $(version_of "$FERRETDB_BIN" | head -n 3)"
    log "$(version_of "$FERRETDB_BIN" | head -n 1) at $FERRETDB_BIN"
}

# True if a MongoDB ping on 127.0.0.1:$1 answers.
ping_port() {
    "${PYTHON:-python3}" -c '
import sys, pymongo
client = pymongo.MongoClient(
    "mongodb://127.0.0.1:%d/" % int(sys.argv[1]),
    serverSelectionTimeoutMS=500,
    connectTimeoutMS=500,
)
try:
    client.admin.command("ping")
finally:
    client.close()
' "$1" </dev/null >/dev/null 2>&1
}

cmd_start() {
    [[ $# -eq 2 ]] || die "usage: $0 start DATA_DIR PORT"
    local data_dir=$1 port=$2
    [[ $port =~ ^[0-9]+$ ]] || die "bad port: $port"
    is_good_binary "$FERRETDB_BIN" || die "$FERRETDB_BIN missing or wrong version; run: $0 install"
    "${PYTHON:-python3}" -c 'import pymongo' 2>/dev/null \
        || die "${PYTHON:-python3} cannot import pymongo (set PYTHON to the project's python)"
    mkdir -p "$data_dir"
    data_dir=$(cd "$data_dir" && pwd)
    local logfile=$data_dir/ferretdb.log pidfile=$data_dir/ferretdb.pid

    # Same process group as the caller on purpose: whoever ends the caller's
    # group ends the server too, so no stray server outlives a killed CI run.
    "$FERRETDB_BIN" \
        --handler=sqlite \
        --sqlite-url="file:$data_dir/" \
        --state-dir="$data_dir" \
        --listen-addr="127.0.0.1:$port" \
        --telemetry=disable \
        --debug-addr=- \
        --log-level=warn \
        </dev/null >>"$logfile" 2>&1 &
    local pid=$!
    echo "$pid" >"$pidfile"
    log "started pid $pid on 127.0.0.1:$port (data $data_dir)"

    wait_ready "$pid" "$data_dir" "$START_TIMEOUT_S" "answers ping on 127.0.0.1:$port" \
        ping_port "$port"
}

dispatch "$@"
