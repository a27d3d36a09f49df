"""`make clean`: drop what the demo, the tests and the benchmarks created outside this folder.

Every throwaway site lives in `tests/.sites/<prefix>/<site>/` (tests: `myapp_test`, demo: `demo`,
benchmarks: `bench*`, and any MYAPP_TEST_DB_PREFIX). For each, its MariaDB database is dropped and
the Redis database its sites folder used (`common_site_config.json`) is emptied. Nothing else on
the MariaDB server or in other Redis databases is touched. `make clean` then removes the folders.
"""

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

SITES = Path(__file__).resolve().parent.parent / "tests" / ".sites"


def read_json(path: Path) -> dict:
	try:
		return json.loads(path.read_text())
	except (OSError, ValueError):
		return {}


def throwaway_databases() -> list[str]:
	names = []
	for config in sorted(SITES.glob("*/*/site_config.json")):
		db_name = read_json(config).get("db_name")
		# the testbed names them `_<site with dots as underscores>`
		if db_name and db_name.startswith("_") and db_name.endswith("_localhost"):
			names.append(db_name)
	return names


def throwaway_redis_urls() -> set[str]:
	urls = set()
	for config in SITES.glob("*/common_site_config.json"):
		settings = read_json(config)
		urls.update(settings[key] for key in ("redis_queue", "redis_cache") if settings.get(key))
	return urls


def drop_databases(names: list[str]):
	import pymysql

	connection = pymysql.connect(
		host=os.environ.get("MYAPP_DB_HOST", "127.0.0.1"),
		port=int(os.environ.get("MYAPP_DB_PORT", "3306")),
		user=os.environ.get("MYAPP_DB_USER", "root"),
		password=os.environ.get("MYAPP_DB_PASSWORD", ""),
	)
	with connection.cursor() as cursor:
		for name in names:
			cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
			print(f"dropped database {name}")
	connection.close()


def empty_redis(urls: set[str]):
	import redis

	for url in sorted(urls):
		if urlparse(url).path.strip("/") in ("", "0"):
			print(f"left {url} alone: database 0 is not a throwaway one")
			continue
		try:
			redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
			print(f"emptied {url}")
		except redis.exceptions.ConnectionError:
			print(f"left {url} alone: not running")


def main() -> int:
	if not SITES.exists():
		print("no throwaway sites")
		return 0
	try:
		drop_databases(throwaway_databases())
	except Exception as e:  # MariaDB down: the folders still go, say what stayed
		print(f"databases not dropped ({e})", file=sys.stderr)
	try:
		empty_redis(throwaway_redis_urls())
	except Exception as e:
		print(f"Redis not emptied ({e})", file=sys.stderr)
	return 0


if __name__ == "__main__":
	sys.exit(main())
