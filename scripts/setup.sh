#!/usr/bin/env bash
# Sets up everything `make test`, `make demo` and `make bench` need, on this machine:
#   1. MariaDB at $MYAPP_DB_HOST:$MYAPP_DB_PORT  (reused when it answers; else installed/started)
#   2. Redis at $MYAPP_REDIS_URL                   (reused when it answers; else installed/started)
#   3. .venv with `pip install -e ".[test]"`       (skipped when pyproject.toml is unchanged)
#   4. a check that both services answer from the venv's Python
# Idempotent and non-interactive; prints one line per step.
#
# Environment (defaults):
#   MYAPP_DB_HOST=127.0.0.1 MYAPP_DB_PORT=3306 MYAPP_DB_USER=root MYAPP_DB_PASSWORD=""
#   MYAPP_REDIS_URL=redis://127.0.0.1:6379
#   MYAPP_PYTHON=python3            interpreter used to create .venv
#   MYAPP_SETUP_DRY_RUN=1           print what would be installed/started instead of doing it
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DB_HOST="${MYAPP_DB_HOST:-127.0.0.1}"
DB_PORT="${MYAPP_DB_PORT:-3306}"
DB_USER="${MYAPP_DB_USER:-root}"
DB_PASSWORD="${MYAPP_DB_PASSWORD:-}"
REDIS_URL="${MYAPP_REDIS_URL:-redis://127.0.0.1:6379}"
PYTHON="${MYAPP_PYTHON:-python3}"
DRY_RUN="${MYAPP_SETUP_DRY_RUN:-0}"
VENV="$ROOT/.venv"
STAMP="$VENV/.myapp-setup-stamp"
MYAPP_CNF=/etc/mysql/mariadb.conf.d/99-myapp.cnf

log() { printf '[setup] %s\n' "$*"; }
die() {
	printf '[setup] ERROR: %s\n' "$*" >&2
	exit 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
	SUDO="sudo -n"
fi

# Runs a command that changes the machine; in dry-run mode only prints it.
run() {
	if [ "$DRY_RUN" = "1" ]; then
		printf '[setup]   would run:'
		printf ' %q' "$@"
		printf '\n'
		return 0
	fi
	$SUDO "$@"
}

is_local_host() {
	case "$1" in
	127.* | localhost | ::1 | "[::1]") return 0 ;;
	*) return 1 ;;
	esac
}

# tcp_open HOST PORT: true when something accepts a TCP connection there.
tcp_open() {
	timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand"
	if [ "$APT_UPDATED" = "0" ]; then
		if [ "$DRY_RUN" = "1" ]; then run apt-get update -qq; else run apt-get update -qq >/dev/null; fi
		APT_UPDATED=1
	fi
	if [ "$DRY_RUN" = "1" ]; then
		run apt-get install -y -qq --no-install-recommends "$@"
	else
		run apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	fi
}

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# ---------------------------------------------------------------------------------------------
# 1. MariaDB
# ---------------------------------------------------------------------------------------------
db_client() {
	if command -v mariadb >/dev/null 2>&1; then
		echo mariadb
	elif command -v mysql >/dev/null 2>&1; then
		echo mysql
	fi
}

# db_login_ok: the configured user can log in over TCP (true when no client is installed to tell).
db_login_ok() {
	local client
	client="$(db_client)"
	[ -n "$client" ] || return 0
	MYSQL_PWD="$DB_PASSWORD" "$client" --no-defaults --protocol=TCP -h "$DB_HOST" -P "$DB_PORT" \
		-u "$DB_USER" -e "SELECT 1" >/dev/null 2>&1
}

db_reachable() {
	tcp_open "$DB_HOST" "$DB_PORT"
}

# As the OS root, through the server's unix socket (Debian's root@localhost uses unix_socket auth).
db_socket_sql() {
	local client
	client="$(db_client)"
	run "${client:-mariadb}" -uroot -e "$1"
}

start_mariadb() {
	run install -d -o mysql -g mysql -m 0755 /run/mysqld
	if [ ! -d /var/lib/mysql/mysql ]; then
		run mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >/dev/null
	fi
	local args=(--user=mysql)
	[ "$DB_PORT" = "3306" ] || args+=("--port=$DB_PORT")
	if command -v start-stop-daemon >/dev/null 2>&1; then
		run start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- "${args[@]}"
	else
		run setsid /usr/sbin/mariadbd "${args[@]}" </dev/null >/dev/null 2>&1 &
	fi
}

wait_for_mariadb() {
	[ "$DRY_RUN" = "1" ] && return 0
	local _
	for _ in $(seq 1 60); do
		if db_reachable && $SUDO "$(db_client)" -uroot -e "SELECT 1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	die "MariaDB did not answer on $DB_HOST:$DB_PORT within 60 s (run '/usr/sbin/mariadbd --user=mysql' in a terminal to see why)"
}

# Frappe needs utf8mb4 / utf8mb4_unicode_ci; written only for a server this script installed.
write_mariadb_conf() {
	if [ "$DRY_RUN" = "1" ]; then
		printf '[setup]   would write %s (utf8mb4, utf8mb4_unicode_ci)\n' "$MYAPP_CNF"
		return 0
	fi
	$SUDO install -d /etc/mysql/mariadb.conf.d
	$SUDO tee "$MYAPP_CNF" >/dev/null <<'EOF'
# written by myapp's scripts/setup.sh: the server options Frappe requires
[mysqld]
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci

[mysql]
default-character-set = utf8mb4
EOF
}

# Debian's root@localhost logs in only through the unix socket: let root in over TCP with the
# empty password the tests use. Only for a server this script installed.
allow_root_over_tcp() {
	db_socket_sql "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD(''); CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
}

setup_mariadb() {
	if db_reachable; then
		if db_login_ok; then
			log "1/4 mariadb: running at $DB_HOST:$DB_PORT, reused"
			return 0
		fi
		if [ -f "$MYAPP_CNF" ] && is_local_host "$DB_HOST" && [ "$DB_USER" = "root" ] && [ -z "$DB_PASSWORD" ]; then
			allow_root_over_tcp
			db_login_ok || [ "$DRY_RUN" = "1" ] || die "MariaDB at $DB_HOST:$DB_PORT refuses user '$DB_USER'"
			log "1/4 mariadb: running at $DB_HOST:$DB_PORT, root login over TCP enabled"
			return 0
		fi
		die "MariaDB at $DB_HOST:$DB_PORT answers but refuses user '$DB_USER' with the given MYAPP_DB_PASSWORD"
	fi
	is_local_host "$DB_HOST" ||
		die "MariaDB is not reachable at $DB_HOST:$DB_PORT (a remote host: start it there, or unset MYAPP_DB_HOST)"

	local installed_now=0 what="started"
	if ! pkg_installed mariadb-server || [ ! -x /usr/sbin/mariadbd ]; then
		log "1/4 mariadb: not reachable at $DB_HOST:$DB_PORT, installing mariadb-server"
		apt_install mariadb-server mariadb-client
		installed_now=1
		what="installed and started"
	elif [ -z "$(db_client)" ]; then
		apt_install mariadb-client
	fi
	if [ "$installed_now" = "1" ]; then
		write_mariadb_conf
		# Debian's postinst may have started it before the conf file existed: restart it.
		if [ "$DRY_RUN" != "1" ] && db_reachable; then
			$SUDO "$(db_client)" -uroot -e "SHUTDOWN" >/dev/null 2>&1 || true
			local _
			for _ in $(seq 1 30); do
				db_reachable || break
				sleep 1
			done
		fi
	fi
	if [ "$DRY_RUN" = "1" ] || ! db_reachable; then
		start_mariadb
	fi
	wait_for_mariadb
	if [ "$installed_now" = "1" ] || [ -f "$MYAPP_CNF" ]; then
		if [ "$DRY_RUN" = "1" ] || ! db_login_ok; then
			allow_root_over_tcp
		fi
	fi
	db_login_ok || [ "$DRY_RUN" = "1" ] || die "MariaDB started but refuses user '$DB_USER' at $DB_HOST:$DB_PORT"
	log "1/4 mariadb: $what at $DB_HOST:$DB_PORT$([ "$DRY_RUN" = "1" ] && echo ' (dry run)')"
}

# ---------------------------------------------------------------------------------------------
# 2. Redis
# ---------------------------------------------------------------------------------------------
REDIS_HOST=""
REDIS_PORT=""
parse_redis_url() {
	local re='^rediss?://([^@/]*@)?(\[[^]]+\]|[^:/]+)(:([0-9]+))?(/.*)?$'
	[[ "$REDIS_URL" =~ $re ]] || die "cannot parse MYAPP_REDIS_URL=$REDIS_URL (expected redis://host:port[/db])"
	REDIS_HOST="${BASH_REMATCH[2]}"
	REDIS_HOST="${REDIS_HOST#[}"
	REDIS_HOST="${REDIS_HOST%]}"
	REDIS_PORT="${BASH_REMATCH[4]:-6379}"
}

# redis_reachable: a Redis server answers PING (+PONG, or an auth error, which is still Redis).
redis_reachable() {
	# shellcheck disable=SC2016  # $0/$1 expand in the inner bash
	timeout 3 bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 1
		printf "PING\r\n" >&3
		IFS= read -r -t 2 line <&3 || exit 1
		case "$line" in "+PONG"* | "-NOAUTH"* | "-ERR"*"auth"* | "-WRONGPASS"*) exit 0 ;; *) exit 1 ;; esac
	' "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null
}

wait_for_redis() {
	[ "$DRY_RUN" = "1" ] && return 0
	local _
	for _ in $(seq 1 30); do
		redis_reachable && return 0
		sleep 1
	done
	die "Redis did not answer at $REDIS_HOST:$REDIS_PORT within 30 s"
}

setup_redis() {
	parse_redis_url
	if redis_reachable; then
		log "2/4 redis: running at $REDIS_HOST:$REDIS_PORT, reused"
		return 0
	fi
	is_local_host "$REDIS_HOST" ||
		die "Redis is not reachable at $REDIS_URL (a remote host: start it there, or unset MYAPP_REDIS_URL)"
	local what="started"
	if ! command -v redis-server >/dev/null 2>&1; then
		log "2/4 redis: not reachable at $REDIS_HOST:$REDIS_PORT, installing redis-server"
		apt_install redis-server
		what="installed and started"
	fi
	# Debian's postinst may already have started it.
	if [ "$DRY_RUN" = "1" ] || ! redis_reachable; then
		run redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir /tmp
	fi
	wait_for_redis
	log "2/4 redis: $what at $REDIS_HOST:$REDIS_PORT$([ "$DRY_RUN" = "1" ] && echo ' (dry run)')"
}

# ---------------------------------------------------------------------------------------------
# 3. Python virtual environment
# ---------------------------------------------------------------------------------------------
venv_works() {
	[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import sys" >/dev/null 2>&1
}

wanted_stamp() {
	{
		sha256sum pyproject.toml | cut -d' ' -f1
		"$VENV/bin/python" -c "import sys; print(sys.version)"
		echo "$ROOT"
	} | sha256sum | cut -d' ' -f1
}

# The editable install points at this checkout and the pinned libraries import.
install_ok() {
	"$VENV/bin/python" - "$ROOT" >/dev/null 2>&1 <<'EOF'
import os, sys
import myapp, rq, redis, pymysql, croniter, jinja2, pytest
sys.exit(0 if os.path.dirname(os.path.dirname(os.path.abspath(myapp.__file__))) == sys.argv[1] else 1)
EOF
}

setup_venv() {
	local created=""
	if ! venv_works; then
		command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set MYAPP_PYTHON to a Python >= 3.10)"
		"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
			die "$PYTHON is $("$PYTHON" -V 2>&1); myapp needs Python >= 3.10 (set MYAPP_PYTHON)"
		if [ "$DRY_RUN" = "1" ]; then
			log "3/4 python: would create .venv with $PYTHON and pip install -e \".[test]\" (dry run)"
			return 0
		fi
		rm -rf "$VENV"
		if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
			# Debian's own python3 ships venv/ensurepip separately.
			rm -rf "$VENV"
			apt_install python3-venv
			"$PYTHON" -m venv "$VENV"
		fi
		created="created .venv, "
	fi
	local want
	want="$(wanted_stamp)"
	if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && install_ok; then
		log "3/4 python: .venv up to date ($("$VENV/bin/python" -V 2>&1)), nothing installed"
		return 0
	fi
	if [ "$DRY_RUN" = "1" ]; then
		log "3/4 python: would pip install -e \".[test]\" into .venv (dry run)"
		return 0
	fi
	rm -f "$STAMP"
	"$VENV/bin/python" -m pip install -q -e ".[test]"
	install_ok || die ".venv: myapp or a test dependency does not import after pip install"
	echo "$want" >"$STAMP"
	log "3/4 python: ${created}installed myapp (editable) and its test dependencies into .venv"
}

# ---------------------------------------------------------------------------------------------
# 4. Both services answer from Python, with the settings the tests will use
# ---------------------------------------------------------------------------------------------
check_services() {
	if [ "$DRY_RUN" = "1" ] || ! venv_works; then
		log "4/4 check: skipped (dry run)"
		return 0
	fi
	MYAPP_DB_HOST="$DB_HOST" MYAPP_DB_PORT="$DB_PORT" MYAPP_DB_USER="$DB_USER" \
		MYAPP_DB_PASSWORD="$DB_PASSWORD" MYAPP_REDIS_URL="$REDIS_URL" \
		"$VENV/bin/python" - <<'EOF' || die "a service does not answer from .venv's Python (see above)"
import os

import pymysql
import redis

conn = pymysql.connect(
	host=os.environ["MYAPP_DB_HOST"],
	port=int(os.environ["MYAPP_DB_PORT"]),
	user=os.environ["MYAPP_DB_USER"],
	password=os.environ["MYAPP_DB_PASSWORD"],
	connect_timeout=5,
)
with conn.cursor() as cur:
	cur.execute("SELECT VERSION()")
	db_version = cur.fetchone()[0]
conn.close()
r = redis.Redis.from_url(os.environ["MYAPP_REDIS_URL"], socket_connect_timeout=5)
redis_version = r.info("server")["redis_version"]
print(f"[setup] 4/4 check: MariaDB {db_version} and Redis {redis_version} answer from .venv")
EOF
}

main() {
	setup_mariadb
	setup_redis
	setup_venv
	check_services
}

# `source scripts/setup.sh` (with MYAPP_SETUP_SOURCE_ONLY=1) loads the functions without running them.
if [ "${MYAPP_SETUP_SOURCE_ONLY:-0}" != "1" ]; then
	main "$@"
fi
