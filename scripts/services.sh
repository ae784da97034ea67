#!/usr/bin/env bash
# The servers that Oxion's tests talk to, installed and run by the project itself, on loopback.
#
#   scripts/services.sh install [SERVICE...]   install (default: all); a no-op when installed
#   scripts/services.sh start SERVICE...       start on a free loopback port; a no-op if running
#   scripts/services.sh stop SERVICE...        stop; a no-op if not running
#   scripts/services.sh status                 one line per service
#   scripts/services.sh env                    OXION_TEST_*_URL=... lines for running services
#   scripts/services.sh check SERVICE...       smoke-test a running service end to end
#
# SERVICE is `mongo`, `mqtt` or `all`:
#   mongo  secantusdb (pinned in scripts/services-requirements.txt), a MongoDB-wire-compatible
#          single-node server, from a venv at $OXION_CACHE/venv. It advertises itself as the
#          primary of a one-member replica set, so change streams and transactions work.
#          env: OXION_TEST_MONGO_URL=mongodb://127.0.0.1:PORT
#   mqtt   mosquitto from Debian's packages (Debian 12: 2.0.11), run as our own process with a
#          generated config (listener PORT 127.0.0.1, anonymous), not as the system service.
#          env: OXION_TEST_MQTT_URL=mqtt://127.0.0.1:PORT
#
# `start` installs what is missing first, wipes the service's data (each start is a clean
# server), picks a free port, starts the server detached and waits, at most
# $OXION_SERVICE_TIMEOUT seconds (default 30), until it answers its own protocol. Pid file,
# port file, config, data and log live in $OXION_SERVICES_DIR/SERVICE (default
# $OXION_CACHE/services/SERVICE; OXION_CACHE defaults to $HOME/.cache/oxion). A lock per
# service makes concurrent starts and stops safe; all clones on a machine share the servers.
#
# How scripts/test.sh will use it, once tests need a server (none does yet):
#   scripts/services.sh start mongo
#   set -a; eval "$(scripts/services.sh env)"; set +a
#   trap 'scripts/services.sh stop mongo' EXIT
#   ... run the tests, which read OXION_TEST_MONGO_URL ...
#
# Messages go to stderr; stdout carries only what `status` and `env` print.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OXION_CACHE=${OXION_CACHE:-$HOME/.cache/oxion}
VENV=$OXION_CACHE/venv
STATE_DIR=${OXION_SERVICES_DIR:-$OXION_CACHE/services}
REQUIREMENTS=$ROOT/scripts/services-requirements.txt
TIMEOUT=${OXION_SERVICE_TIMEOUT:-30}
PYTHON=${OXION_PYTHON:-python3}
SERVICES=(mongo mqtt)

say() { echo "services.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# Installing

# apt_install PACKAGE...: install the Debian packages not installed yet. The package lists are
# refreshed only when a package has no install candidate, or when the install fails (stale
# lists).
apt_install() {
    local pkg missing=() sudo=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
        sudo=(sudo)
    fi
    say "installing Debian packages: ${missing[*]}"
    local updated=false
    for pkg in "${missing[@]}"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
            "${sudo[@]}" apt-get update -q
            updated=true
            break
        fi
    done
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        $updated && die "apt-get install ${missing[*]} failed"
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# ensure_venv: a working venv at $VENV made by $PYTHON (3.11 or newer: numpy's pin needs it).
ensure_venv() {
    if [[ -x $VENV/bin/python ]] && "$VENV/bin/python" -c '' 2>/dev/null; then
        return 0
    fi
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set OXION_PYTHON)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is $("$PYTHON" --version 2>&1); the pinned packages need Python 3.11+"
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        # Debian's python3 ships venv support separately.
        apt_install python3-venv
    fi
    say "creating venv $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
}

install_mongo() {
    ensure_venv
    # The stamp is the hash of the requirements file: a changed pin reinstalls.
    local stamp=$VENV/.oxion-requirements.sha256 want
    want=$(sha256sum <"$REQUIREMENTS" | cut -d' ' -f1)
    if [[ -x $VENV/bin/secantusd-py && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    say "installing $REQUIREMENTS into $VENV"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$REQUIREMENTS"
    echo "$want" >"$stamp"
}

install_mqtt() {
    apt_install mosquitto mosquitto-clients
    local version
    version=$(mosquitto_bin -h 2>&1 | sed -n 's/^mosquitto version //p' | head -n 1) || true
    [[ $version == 2.* ]] || say "warning: mosquitto $version found; tested with 2.0.11"
}

mosquitto_bin() {
    if command -v mosquitto >/dev/null; then
        mosquitto "$@"
    else
        /usr/sbin/mosquitto "$@"
    fi
}

# ---------------------------------------------------------------------------------------------
# Process state

dir_of() { echo "$STATE_DIR/$1"; }

# alive PID: the process exists and is not a zombie.
alive() {
    local stat
    [[ -r /proc/$1/stat ]] || return 1
    stat=$(</proc/"$1"/stat) 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# pid_of SERVICE: print the pid of the running server, or fail. The command line must still
# name the server, so a pid file left by a crash never points at a stranger.
pid_of() {
    local svc=$1 pidfile pid marker
    pidfile=$(dir_of "$svc")/pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    case $svc in
        mongo) marker=secantusd-py ;;
        mqtt) marker=mosquitto ;;
    esac
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$marker" || return 1
    echo "$pid"
}

port_of() {
    local portfile
    portfile=$(dir_of "$1")/port
    [[ -f $portfile ]] && cat "$portfile"
}

url_of() {
    case $1 in
        mongo) echo "mongodb://127.0.0.1:$2" ;;
        mqtt) echo "mqtt://127.0.0.1:$2" ;;
    esac
}

free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# with_lock SERVICE COMMAND...: run COMMAND holding the service's lock (fd 9).
with_lock() {
    local svc=$1
    shift
    mkdir -p "$STATE_DIR"
    (
        flock -w "$TIMEOUT" 9 || die "$svc: timed out waiting for $STATE_DIR/$svc.lock"
        "$@"
    ) 9>"$STATE_DIR/$svc.lock"
}

# ---------------------------------------------------------------------------------------------
# Starting and stopping

# launch SERVICE PORT: start the server detached (own session, no terminal, lock fd closed)
# and write its pid file.
launch() {
    local svc=$1 port=$2 dir
    dir=$(dir_of "$svc")
    case $svc in
        mongo)
            rm -rf "$dir/data"
            mkdir -p "$dir/data"
            # An explicit (empty) config turns off secantusd's search of ./, ~ and /etc. It
            # leaves sync_on_commit off: secantusdb (0.7.0b3) then honours writeConcern j:true
            # on single writes but not on commitTransaction, so a transaction acknowledged as
            # journaled can be lost if the server is killed right after. No test kills this
            # server; the one that does (broker/tests/processes/mongo_outage.rs) runs its own
            # with sync_on_commit on, which fsyncs every commit (6x slower on the store tests'
            # concurrent writers, measured).
            : >"$dir/secantusd.toml"
            setsid "$VENV/bin/secantusd-py" --config "$dir/secantusd.toml" \
                --host 127.0.0.1 --port "$port" --storage-path "$dir/data" --cache-size 256M \
                </dev/null >"$dir/server.log" 2>&1 9>&- &
            ;;
        mqtt)
            cat >"$dir/mosquitto.conf" <<EOF
# Generated by scripts/services.sh: a test broker on loopback only.
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
EOF
            setsid "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/mosquitto.conf" \
                </dev/null >"$dir/server.log" 2>&1 9>&- &
            ;;
    esac
    echo $! >"$dir/pid"
}

# wait_ready SERVICE PID PORT: 0 once the server answers its protocol, 2 if it died, 1 on
# timeout.
wait_ready() {
    local svc=$1 pid=$2 port=$3
    case $svc in
        mongo)
            "$VENV/bin/python" - "$pid" "$port" "$TIMEOUT" <<'EOF'
import sys, time
import pymongo

pid, port, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout

def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

while True:
    if not alive():
        sys.exit(2)
    client = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true",
        serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    try:
        client.admin.command("ping")
        sys.exit(0)
    except pymongo.errors.PyMongoError:
        pass
    finally:
        client.close()
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
EOF
            ;;
        mqtt)
            local deadline=$((SECONDS + TIMEOUT))
            while true; do
                alive "$pid" || return 2
                # A CONNECT/CONNACK round trip, not just an open port.
                mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t oxion/ready -n 2>/dev/null &&
                    return 0
                ((SECONDS < deadline)) || return 1
                sleep 0.1
            done
            ;;
    esac
}

# terminate PID: SIGTERM to the server's process group, SIGKILL after $TIMEOUT seconds.
terminate() {
    local pid=$1 deadline=$((SECONDS + TIMEOUT))
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            say "pid $pid ignored SIGTERM for ${TIMEOUT}s: SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
}

start_locked() {
    local svc=$1 dir pid port attempt status
    dir=$(dir_of "$svc")
    if pid=$(pid_of "$svc"); then
        say "$svc: already running (pid $pid, $(url_of "$svc" "$(port_of "$svc")"))"
        return 0
    fi
    mkdir -p "$dir"
    rm -f "$dir/pid" "$dir/port"
    # A port found free can be taken before the server binds it: then the server exits, and
    # another port is tried.
    for attempt in 1 2 3; do
        port=$(free_port)
        launch "$svc" "$port"
        pid=$(<"$dir/pid")
        status=0
        wait_ready "$svc" "$pid" "$port" || status=$?
        if [[ $status -eq 0 ]]; then
            echo "$port" >"$dir/port"
            say "$svc: started (pid $pid, $(url_of "$svc" "$port"), log $dir/server.log)"
            return 0
        fi
        terminate "$pid"
        rm -f "$dir/pid"
        if [[ $status -eq 1 ]]; then
            tail -n 20 "$dir/server.log" >&2 || true
            die "$svc: not ready after ${TIMEOUT}s (log $dir/server.log)"
        fi
        say "$svc: server exited at start (attempt $attempt); last log lines:"
        tail -n 5 "$dir/server.log" >&2 || true
    done
    die "$svc: could not start (log $dir/server.log)"
}

stop_locked() {
    local svc=$1 dir pid
    dir=$(dir_of "$svc")
    if pid=$(pid_of "$svc"); then
        terminate "$pid"
        say "$svc: stopped (pid $pid)"
    else
        say "$svc: not running"
    fi
    rm -f "$dir/pid" "$dir/port"
}

# ---------------------------------------------------------------------------------------------
# Checks: what the tests will rely on, exercised once by hand or in CI

check() {
    local svc=$1 port
    pid_of "$svc" >/dev/null || die "$svc: not running"
    port=$(port_of "$svc")
    case $svc in
        mongo)
            "$VENV/bin/python" - "$(url_of mongo "$port")" <<'EOF'
import sys
import pymongo

client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
coll = client["oxion_services_check"]["entities"]
coll.drop()
coll.insert_one({"_id": "urn:ngsi-ld:Check:1",
                 "location": {"type": "Point", "coordinates": [2.35, 48.85]}})
assert coll.find_one({"_id": "urn:ngsi-ld:Check:1"}) is not None, "insert/find"
coll.create_index([("location", pymongo.GEOSPHERE)])
square = {"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 49], [2, 48]]]}
found = [d["_id"] for d in coll.find({"location": {"$geoWithin": {"$geometry": square}}})]
assert found == ["urn:ngsi-ld:Check:1"], f"$geoWithin found {found}"
with coll.watch(max_await_time_ms=200) as stream:
    coll.insert_one({"_id": "urn:ngsi-ld:Check:2"})
    change = None
    for _ in range(50):
        change = stream.try_next()
        if change is not None:
            break
assert change is not None and change["documentKey"]["_id"] == "urn:ngsi-ld:Check:2", change
client.drop_database("oxion_services_check")
print(f"mongo: ok (insert/find, 2dsphere index, $geoWithin, change stream; "
      f"server {client.server_info().get('version', '?')})")
EOF
            ;;
        mqtt)
            local topic="oxion/check/$$" got
            # Retained, so the subscriber gets it whenever it connects; cleared afterwards.
            mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "$topic" -m "ping $$"
            got=$(mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t "$topic" -C 1 -W 5)
            mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -r -t "$topic" -n
            [[ $got == "ping $$" ]] || die "mqtt: subscriber got '$got'"
            echo "mqtt: ok (publish/subscribe round trip, QoS 1)"
            ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Commands

# pick_services ARG...: set SELECTED to the services named (`all` for every one).
pick_services() {
    local arg
    [[ $# -gt 0 ]] || usage
    SELECTED=()
    for arg in "$@"; do
        case $arg in
            all) SELECTED+=("${SERVICES[@]}") ;;
            mongo | mqtt) SELECTED+=("$arg") ;;
            *) die "unknown service '$arg' (mongo, mqtt or all)" ;;
        esac
    done
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
case $cmd in
    install)
        [[ $# -gt 0 ]] || set -- all
        pick_services "$@"
        for svc in "${SELECTED[@]}"; do with_lock "$svc" "install_$svc"; done
        ;;
    start)
        pick_services "$@"
        # The --auth jwt tests make their RSA signing keys with the openssl command.
        apt_install openssl
        for svc in "${SELECTED[@]}"; do
            with_lock "$svc" "install_$svc"
            with_lock "$svc" start_locked "$svc"
        done
        ;;
    stop)
        pick_services "$@"
        for svc in "${SELECTED[@]}"; do with_lock "$svc" stop_locked "$svc"; done
        ;;
    status)
        for svc in "${SERVICES[@]}"; do
            if pid=$(pid_of "$svc"); then
                echo "$svc: running (pid $pid, $(url_of "$svc" "$(port_of "$svc")"), log $(dir_of "$svc")/server.log)"
            else
                echo "$svc: stopped"
            fi
        done
        ;;
    env)
        for svc in "${SERVICES[@]}"; do
            if pid_of "$svc" >/dev/null && port=$(port_of "$svc"); then
                echo "OXION_TEST_${svc^^}_URL=$(url_of "$svc" "$port")"
                if [[ $svc == mongo ]]; then
                    # Tests that stop and restart a server of their own start this one.
                    echo "OXION_TEST_MONGOD=$VENV/bin/secantusd-py"
                fi
            fi
        done
        ;;
    check)
        pick_services "$@"
        for svc in "${SELECTED[@]}"; do check "$svc"; done
        ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$cmd' (install, start, stop, status, env, check)" ;;
esac
