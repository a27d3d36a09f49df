"""`frappe.cache`: a redis.Redis whose keys are namespaced per site, as in Frappe v15.

Values go through pickle and are memoised in `frappe.local.cache` for the request/job,
exactly like v15 (so a value set by another process is not seen while memoised)."""

import pickle
import re

import redis

import frappe


class RedisWrapper(redis.Redis):
	"""Redis client that prefixes keys with `{conf.db_name}|`"""

	def connected(self):
		try:
			self.ping()
			return True
		except redis.exceptions.ConnectionError:
			return False

	def __call__(self):
		"""Backward compatibility: frappe.cache().method(...)"""
		return self

	def make_key(self, key, user=None, shared=False):
		if shared:
			return key
		if user:
			if user is True:
				user = frappe.session.user

			key = f"user:{user}:{key}"

		return f"{frappe.conf.db_name}|{key}".encode()

	def set_value(self, key, val, user=None, expires_in_sec=None, shared=False):
		"""Set a pickled value; `expires_in_sec` makes it expire (and skips the local memo)"""
		key = self.make_key(key, user, shared)

		if not expires_in_sec:
			frappe.local.cache[key] = val

		try:
			if expires_in_sec:
				self.setex(name=key, time=expires_in_sec, value=pickle.dumps(val))
			else:
				self.set(key, pickle.dumps(val))
		except redis.exceptions.ConnectionError:
			return None

	def get_value(self, key, generator=None, user=None, expires=False, shared=False):
		"""Cached value; when missing, `generator()` makes (and stores) it.

		`expires=True`: the key has a TTL, so do not memoise it in frappe.local."""
		original_key = key
		key = self.make_key(key, user, shared)

		if key in frappe.local.cache:
			return frappe.local.cache[key]

		val = None
		try:
			val = self.get(key)
		except redis.exceptions.ConnectionError:
			pass

		if val is not None:
			val = pickle.loads(val)

		if not expires:
			if val is None and generator:
				val = generator()
				self.set_value(original_key, val, user=user, shared=shared)
			else:
				frappe.local.cache[key] = val

		return val

	def get_all(self, key):
		ret = {}
		for k in self.get_keys(key):
			# as in v15 (keys are already namespaced, and `ret[key]` is overwritten)
			ret[key] = self.get_value(k)
		return ret

	def get_keys(self, key):
		"""Return keys starting with `key`."""
		try:
			return self.keys(self.make_key(key + "*"))
		except redis.exceptions.ConnectionError:
			regex = re.compile(str(key).replace("|", r"\|").replace("*", r"[\w]*"))
			return [k for k in list(frappe.local.cache) if regex.match(str(k))]

	def delete_keys(self, key):
		"""Delete keys with wildcard `*`."""
		self.delete_value(self.get_keys(key), make_keys=False)

	def delete_key(self, *args, **kwargs):
		self.delete_value(*args, **kwargs)

	def delete_value(self, keys, user=None, make_keys=True, shared=False):
		"""Delete value, list of values."""
		if not keys:
			return

		if not isinstance(keys, list | tuple):
			keys = (keys,)

		if make_keys:
			keys = [self.make_key(k, shared=shared, user=user) for k in keys]

		for key in keys:
			frappe.local.cache.pop(key, None)

		try:
			self.delete(*keys)
		except redis.exceptions.ConnectionError:
			pass

	# list and set commands: namespaced, values are not pickled (as in v15)
	def lpush(self, key, value):
		return super().lpush(self.make_key(key), value)

	def rpush(self, key, value):
		return super().rpush(self.make_key(key), value)

	def lpop(self, key):
		return super().lpop(self.make_key(key))

	def rpop(self, key):
		return super().rpop(self.make_key(key))

	def llen(self, key):
		return super().llen(self.make_key(key))

	def lrange(self, key, start, stop):
		return super().lrange(self.make_key(key), start, stop)

	def ltrim(self, key, start, stop):
		return super().ltrim(self.make_key(key), start, stop)

	def sadd(self, name, *values):
		super().sadd(self.make_key(name), *values)

	def srem(self, name, *values):
		super().srem(self.make_key(name), *values)

	def sismember(self, name, value):
		return super().sismember(self.make_key(name), value)

	def spop(self, name):
		return super().spop(self.make_key(name))

	def srandmember(self, name, count=None):
		return super().srandmember(self.make_key(name))

	def smembers(self, name):
		return super().smembers(self.make_key(name))

	def exists(self, *names: str, user=None, shared=None) -> int:
		names = [self.make_key(n, user=user, shared=shared) for n in names]
		try:
			return super().exists(*names)
		except redis.exceptions.ConnectionError:
			return False

	# hashes: pickled values, memoised per field in frappe.local.cache
	def hset(self, name: str, key: str, value, shared: bool = False, *args, **kwargs):
		if key is None:
			return

		_name = self.make_key(name, shared=shared)
		frappe.local.cache.setdefault(_name, {})[key] = value

		try:
			super().hset(_name, key, pickle.dumps(value), *args, **kwargs)
		except redis.exceptions.ConnectionError:
			pass

	def hexists(self, name: str, key: str, shared: bool = False) -> bool:
		if key is None:
			return False
		try:
			return super().hexists(self.make_key(name, shared=shared), key)
		except redis.exceptions.ConnectionError:
			return False

	def hgetall(self, name):
		value = super().hgetall(self.make_key(name))
		return {key: pickle.loads(value) for key, value in value.items()}

	def hget(self, name, key, generator=None, shared=False):
		_name = self.make_key(name, shared=shared)
		if _name not in frappe.local.cache:
			frappe.local.cache[_name] = {}

		if not key:
			return None

		if key in frappe.local.cache[_name]:
			return frappe.local.cache[_name][key]

		value = None
		try:
			value = super().hget(_name, key)
		except redis.exceptions.ConnectionError:
			pass

		if value is not None:
			value = pickle.loads(value)
			frappe.local.cache[_name][key] = value
		elif generator:
			value = generator()
			self.hset(name, key, value, shared=shared)
		return value

	def hdel(self, name, key, shared=False):
		_name = self.make_key(name, shared=shared)
		if _name in frappe.local.cache:
			frappe.local.cache[_name].pop(key, None)
		try:
			super().hdel(_name, key)
		except redis.exceptions.ConnectionError:
			pass

	def hdel_keys(self, name_starts_with, key):
		"""Delete hash names with wildcard `*` and key"""
		for name in self.get_keys(name_starts_with):
			name = name.decode().split("|", 1)[1] if isinstance(name, bytes) else name.split("|", 1)[1]
			self.hdel(name, key)

	def hkeys(self, name):
		try:
			return super().hkeys(self.make_key(name))
		except redis.exceptions.ConnectionError:
			return []


def setup_cache():
	"""The process-wide `frappe.cache` (v15: created once by frappe.init from conf.redis_cache)"""
	return RedisWrapper.from_url(frappe.conf.get("redis_cache"))
