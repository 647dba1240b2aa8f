#!/usr/bin/env bash
# Stop the servers that tests/dbservers/start.sh started from STATE_DIR.
#
#   tests/dbservers/stop.sh [STATE_DIR] [--clean]      (default /tmp/kc-dbservers)
#
# Uses only the pid files in STATE_DIR and signals a pid only if it still belongs to the
# expected program. Deletes nothing, except STATE_DIR itself with --clean.
set -euo pipefail

STATE=/tmp/kc-dbservers
CLEAN=0
for a in "$@"; do
	case $a in
	--clean) CLEAN=1 ;;
	-*) echo "usage: $0 [STATE_DIR] [--clean]" >&2 && exit 2 ;;
	*) STATE=$a ;;
	esac
done
WAIT_SECS=30
rc=0

names=() pids=() comms=()
# signal_one NAME PIDFILE COMM SIGNAL: signal the pid in PIDFILE if it is still COMM.
signal_one() {
	local name=$1 pidf=$2 comm=$3 sig=$4 pid
	if [[ ! -s $pidf ]]; then
		echo "$name not running (no $pidf)"
		return
	fi
	pid=$(head -n1 "$pidf" | tr -dc 0-9)
	if [[ -z $pid || $(cat "/proc/$pid/comm" 2>/dev/null) != "$comm"* ]]; then
		echo "$name not running (stale $pidf)"
		return
	fi
	kill "-$sig" "$pid" 2>/dev/null || true
	names+=("$name")
	pids+=("$pid")
	comms+=("$comm")
}

# PostgreSQL: SIGINT is its "fast" shutdown (SIGTERM would wait for clients to leave).
signal_one postgres "$STATE/postgres/data/postmaster.pid" postgres INT
signal_one mariadb "$STATE/mariadb/run/mariadbd.pid" mariadbd TERM
signal_one redis "$STATE/redis/redis.pid" redis-server TERM
# Black holes started with blackhole.py --pidfile STATE_DIR/blackhole-*.pid (see README.md).
for f in "$STATE"/blackhole-*.pid; do
	[[ -e $f ]] || continue
	signal_one "blackhole $(basename "$f" .pid | sed 's/^blackhole-//')" "$f" python TERM
	rm -f "$f"
done

# alive PID COMM: PID is still running as COMM (not exited, not reused).
alive() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2"* ]]; }

# All were signalled at once; now wait for each (bounded), then SIGKILL what is left.
deadline=$(($(date +%s) + WAIT_SECS))
for i in "${!pids[@]}"; do
	while alive "${pids[i]}" "${comms[i]}" && (($(date +%s) < deadline)); do sleep 0.1; done
	if alive "${pids[i]}" "${comms[i]}"; then
		echo "stop.sh: ${names[i]} (pid ${pids[i]}) still running after ${WAIT_SECS} s; sending SIGKILL" >&2
		kill -KILL "${pids[i]}" 2>/dev/null || true
		sleep 0.5
		if alive "${pids[i]}" "${comms[i]}"; then
			echo "stop.sh: ${names[i]} (pid ${pids[i]}) survived SIGKILL" >&2
			rc=1
			continue
		fi
	fi
	echo "${names[i]} stopped"
done

if ((CLEAN)) && ((rc == 0)) && [[ -d $STATE ]]; then
	# Only a directory that start.sh made its state dir (it writes this marker).
	[[ -e $STATE/.kc-dbservers ]] || { echo "stop.sh: $STATE has no .kc-dbservers marker; not removing it" >&2 && exit 1; }
	rm -rf -- "$STATE"
	echo "removed $STATE"
fi
exit "$rc"
