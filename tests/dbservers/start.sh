#!/usr/bin/env bash
# Start throwaway PostgreSQL, MariaDB and Redis servers for health-check tests.
#
#   tests/dbservers/start.sh [STATE_DIR]      (default /tmp/kc-dbservers)
#
# Debian 12, run as root. Installs the Debian packages that are missing, then starts
# each server on 127.0.0.1 only, on a non-default port, with all its files in STATE_DIR.
# Idempotent: servers that already run from STATE_DIR are left running (users and
# databases are re-asserted). Prints one "NAME 127.0.0.1:PORT ready" line per server on
# stdout; progress and errors go to stderr. Test-only credentials: see README.md.
set -euo pipefail

STATE=${1:-/tmp/kc-dbservers}
HOST=127.0.0.1
PG_PORT=55432
MY_PORT=53306
REDIS_PORT=56379
PASSWORD=correct-horse # test-only
WAIT_SECS=60

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "start.sh: $*" >&2; }
die() {
	echo "start.sh: ERROR: $*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts each server as its own OS user)"
[[ $STATE =~ ^[A-Za-z0-9_./-]+$ ]] || die "state dir '$STATE': use only letters, digits and _ . / - (it is written into config files)"
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
chmod 0755 "$STATE"
touch "$STATE/.kc-dbservers" # marker: stop.sh --clean removes only such a dir
# Unix sockets are limited to 107 bytes; the longest one is the PostgreSQL socket.
((${#STATE} + ${#PG_PORT} + 24 <= 107)) || die "state dir path '$STATE' is too long for a Unix socket path; use a shorter one"

# ---------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------
pg_bin_dir() {
	if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
		echo /usr/lib/postgresql/15/bin
		return
	fi
	local d
	d=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n1)
	if [[ -x $d/initdb ]]; then echo "$d"; fi
}

missing=()
[[ -n $(pg_bin_dir) ]] || missing+=(postgresql)
command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && command -v mariadb >/dev/null ||
	missing+=(mariadb-server mariadb-client)
command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server redis-tools)
command -v openssl >/dev/null || missing+=(openssl)

POLICY=/usr/sbin/policy-rc.d
POLICY_CREATED=0
cleanup() { if ((POLICY_CREATED)); then rm -f "$POLICY"; fi; }
trap cleanup EXIT

if ((${#missing[@]})); then
	log "installing ${missing[*]} (apt-get)"
	# Keep the packages' own init scripts from starting servers on the default ports:
	# policy-rc.d exit 101 tells invoke-rc.d "do not start" (the Docker convention).
	if [[ ! -e $POLICY ]]; then
		printf '#!/bin/sh\n# temporary, from tests/dbservers/start.sh\nexit 101\n' >"$POLICY"
		chmod 0755 "$POLICY"
		POLICY_CREATED=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >"$STATE/apt.log" 2>&1; }
	if ! apt_install; then
		log "apt-get install failed; running apt-get update and retrying"
		apt-get update -q >>"$STATE/apt.log" 2>&1 || die "apt-get update failed, see $STATE/apt.log"
		apt_install || die "apt-get install ${missing[*]} failed, see $STATE/apt.log"
	fi
	cleanup
	POLICY_CREATED=0
	log "installed in $(elapsed) s"
fi
PG_BIN=$(pg_bin_dir)
[[ -n $PG_BIN ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin after install"
for u in postgres mysql redis; do
	getent passwd "$u" >/dev/null || die "OS user '$u' is missing (it comes with the Debian package)"
	runuser -u "$u" -- test -x "$STATE" || die "OS user '$u' cannot enter '$STATE'; choose a state dir whose parents are world-searchable (e.g. under /tmp)"
done

# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# pid_alive PIDFILE COMM: the first number in PIDFILE is a live process whose name starts with COMM.
pid_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(head -n1 "$1" | tr -dc 0-9)
	[[ -n $pid && -r /proc/$pid/comm ]] || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]]
}

# wait_until WHAT LOGFILE CMD...: run CMD every 0.5 s until it succeeds, at most WAIT_SECS.
wait_until() {
	local what=$1 logf=$2 deadline
	shift 2
	deadline=$(($(date +%s) + WAIT_SECS))
	until "$@" >/dev/null 2>&1; do
		if (($(date +%s) >= deadline)); then
			echo "start.sh: ERROR: $what not ready after ${WAIT_SECS} s. Last lines of $logf:" >&2
			tail -n 20 "$logf" >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.5
	done
}

# refuse_busy_port NAME PORT: die if someone else (not our pid file) holds the port.
refuse_busy_port() {
	if port_open "$2"; then
		die "$1: port $HOST:$2 is already in use by another process (a server from another state dir? run its stop.sh first)"
	fi
}

# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------
start_postgres() {
	local d=$STATE/postgres
	local data=$d/data run=$d/run tls=$d/tls logf=$d/postgres.log
	install -d -o postgres -g postgres -m 0700 "$d" "$run" "$tls"

	if [[ ! -s $data/PG_VERSION ]]; then
		rm -rf "$data"
		runuser -u postgres -- "$PG_BIN/initdb" --no-sync -D "$data" -U postgres -E UTF8 --locale=C \
			--auth-local=peer --auth-host=scram-sha-256 >"$d/initdb.log" 2>&1 ||
			die "postgres: initdb failed, see $d/initdb.log"
	fi

	# TLS: a throwaway CA and a server certificate it signs (SAN IP:127.0.0.1, DNS:localhost),
	# so sslmode=require works and verify-full works with sslrootcert=$tls/ca.crt, also for
	# rustls/webpki clients, which reject a CA certificate used directly as a server cert.
	if [[ ! -s $tls/server.crt || ! -s $tls/server.key || ! -s $tls/ca.crt ]]; then
		(
			cd "$tls"
			openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
				-subj "/CN=kc-dbservers test CA" -keyout ca.key -out ca.crt \
				-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
			openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
			printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
				"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
			openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
				-extfile server.ext -out server.crt
		) >"$d/openssl.log" 2>&1 || die "postgres: certificate generation failed, see $d/openssl.log"
		chown postgres:postgres "$tls"/*
		chmod 0600 "$tls/server.key" "$tls/ca.key"
		chmod 0644 "$tls/server.crt" "$tls/ca.crt"
	fi

	cat >"$d/kc.conf" <<EOF
# written by tests/dbservers/start.sh; included from data/postgresql.conf
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$run'
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$tls/server.crt'
ssl_key_file = '$tls/server.key'
max_connections = 50
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_connections = on
EOF
	chown postgres:postgres "$d/kc.conf"
	grep -q "^include '$d/kc.conf'" "$data/postgresql.conf" ||
		echo "include '$d/kc.conf'" >>"$data/postgresql.conf"
	cat >"$data/pg_hba.conf" <<'EOF'
# written by tests/dbservers/start.sh
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer
host    all       all       127.0.0.1/32   scram-sha-256
EOF
	chown postgres:postgres "$data/pg_hba.conf"

	if pid_alive "$data/postmaster.pid" postgres; then
		log "postgres: already running from $data; reloading config"
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" reload >/dev/null
	else
		refuse_busy_port postgres "$PG_PORT"
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$logf" -w -t "$WAIT_SECS" start >/dev/null 2>&1 ||
			{
				tail -n 20 "$logf" >&2 || true
				die "postgres: pg_ctl start failed, see $logf"
			}
	fi
	wait_until postgres "$logf" "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2

	runuser -u postgres -- "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$PG_PORT" -U postgres -d postgres \
		>"$d/setup.log" 2>&1 <<EOF || die "postgres: creating user/database failed, see $d/setup.log"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app; END IF;
END \$\$;
SET password_encryption = 'scram-sha-256';
ALTER ROLE app WITH LOGIN PASSWORD '$PASSWORD';
SELECT 'CREATE DATABASE appdb OWNER app' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'appdb') \gexec
EOF
	# Ready means: the test user logs in over TCP with TLS.
	wait_until "postgres (TCP+TLS login as app)" "$logf" env PGPASSWORD="$PASSWORD" PGCONNECT_TIMEOUT=2 \
		"$PG_BIN/psql" -X -q -c 'SELECT 1' "host=$HOST port=$PG_PORT user=app dbname=appdb sslmode=require"
	echo "postgres $HOST:$PG_PORT ready"
}

# ---------------------------------------------------------------------------------------
# MariaDB
# ---------------------------------------------------------------------------------------
start_mariadb() {
	local d=$STATE/mariadb
	local data=$d/data run=$d/run logf=$d/mariadbd.err
	local sock=$run/mariadbd.sock pidf=$run/mariadbd.pid
	install -d -o mysql -g mysql -m 0750 "$d" "$run"
	cat >"$d/my.cnf" <<EOF
# written by tests/dbservers/start.sh
[mysqld]
user = mysql
datadir = $data
socket = $sock
pid-file = $pidf
port = $MY_PORT
bind-address = $HOST
skip-name-resolve
log-error = $logf
character-set-server = utf8mb4
innodb_buffer_pool_size = 64M
innodb_flush_log_at_trx_commit = 2
EOF
	chmod 0644 "$d/my.cnf"

	if [[ ! -d $data/mysql ]]; then
		rm -rf "$data"
		mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=socket \
			--skip-test-db >"$d/install-db.log" 2>&1 ||
			die "mariadb: mariadb-install-db failed, see $d/install-db.log"
	fi

	if pid_alive "$pidf" mariadbd; then
		log "mariadb: already running from $data"
	else
		refuse_busy_port mariadb "$MY_PORT"
		rm -f "$pidf" "$sock"
		# mariadbd does not daemonize itself: detach it from this shell.
		setsid mariadbd --defaults-file="$d/my.cnf" </dev/null >>"$d/mariadbd.out" 2>&1 &
	fi
	wait_until "mariadb (socket)" "$logf" mariadb-admin --no-defaults -S "$sock" -u root ping

	{
		# mariadb-install-db may create anonymous accounts; they would shadow 'app'@'%'.
		mariadb --no-defaults -S "$sock" -u root -N -B \
			-e "SELECT CONCAT('DROP USER ''', User, '''@''', Host, ''';') FROM mysql.user WHERE User = ''"
		cat <<EOF
CREATE DATABASE IF NOT EXISTS appdb;
CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '$PASSWORD';
CREATE USER IF NOT EXISTS 'app'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
ALTER USER 'app'@'%' IDENTIFIED BY '$PASSWORD';
ALTER USER 'app'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON appdb.* TO 'app'@'%';
GRANT ALL PRIVILEGES ON appdb.* TO 'app'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF
	} | mariadb --no-defaults -S "$sock" -u root >"$d/setup.log" 2>&1 ||
		die "mariadb: creating user/database failed, see $d/setup.log"
	# Ready means: the test user logs in over TCP.
	wait_until "mariadb (TCP login as app)" "$logf" mariadb --no-defaults -h "$HOST" -P "$MY_PORT" \
		--connect-timeout=2 -u app "-p$PASSWORD" appdb -e 'SELECT 1'
	echo "mariadb $HOST:$MY_PORT ready"
}

# ---------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------
start_redis() {
	local d=$STATE/redis
	local pidf=$d/redis.pid logf=$d/redis.log
	install -d -o redis -g redis -m 0750 "$d"
	cat >"$d/redis.conf" <<EOF
# written by tests/dbservers/start.sh
bind $HOST
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $pidf
logfile $logf
dir $d
save ""
appendonly no
requirepass $PASSWORD
user default on >$PASSWORD ~* &* +@all
user app on >$PASSWORD ~* &* +@all
EOF
	chown redis:redis "$d/redis.conf"
	chmod 0640 "$d/redis.conf"

	if pid_alive "$pidf" redis-server; then
		log "redis: already running from $d"
	else
		refuse_busy_port redis "$REDIS_PORT"
		rm -f "$pidf"
		runuser -u redis -- redis-server "$d/redis.conf" >>"$d/redis.out" 2>&1 ||
			die "redis: redis-server failed to start, see $logf and $d/redis.out"
	fi
	wait_until redis "$logf" redis_ping
	echo "redis $HOST:$REDIS_PORT ready"
}
redis_ping() { [[ $(REDISCLI_AUTH=$PASSWORD redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

start_postgres
start_mariadb
start_redis

cat >"$STATE/env" <<EOF
# written by tests/dbservers/start.sh; source it in tests (test-only credentials)
KC_DBSERVERS_STATE=$STATE
KC_PG_URL=postgres://app:$PASSWORD@$HOST:$PG_PORT/appdb
KC_PG_CA=$STATE/postgres/tls/ca.crt
KC_MARIADB_URL=mysql://app:$PASSWORD@$HOST:$MY_PORT/appdb
KC_REDIS_URL=redis://app:$PASSWORD@$HOST:$REDIS_PORT/0
EOF
log "all ready in $(elapsed) s (state dir $STATE)"
