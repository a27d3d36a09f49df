"""A real HTTP server on 127.0.0.1 standing in for the external orders API (tests and demo).

Default behaviour, as `myapp.sync` expects of the API:

- `POST /v1/orders` stores the order and answers 201 `{"id": "EXT-<n>"}`;
- `PUT /v1/orders/<id>` updates it (200 `{"id": <id>}`; 404 for an unknown id);
- `GET /v1/orders?updated_since=&page=&limit=` lists `remote_orders` updated at or after
  `updated_since`, ordered by `updated_at`, a page at a time: `{"data": [...], "next_page": n | null}`.

A test scripts deviations with `script(method, path_prefix, Reply(...), ...)`: each reply is used
once, in order, by the next matching request. Every request is recorded. The server bounds its
own work: after `max_requests` requests it answers 503 and sets `overflowed`, and it shuts itself
down after `lifetime` seconds if nobody stops it.
"""

import datetime
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/v1"


@dataclass
class Reply:
	status: int = 200
	body: object = None  # dict/list -> JSON; str -> sent as is; callable(request) -> either
	headers: dict = field(default_factory=dict)
	delay: float = 0.0  # seconds before answering (longer than the client's timeout = a timeout)


@dataclass
class Request:
	method: str
	path: str
	query: dict
	headers: dict
	json: object
	status: int = 0  # what the server answered


class ExternalAPIServer:
	def __init__(self, max_requests: int = 500, lifetime: float = 600.0):
		self.max_requests = max_requests
		self.requests: list[Request] = []
		self.remote_orders: list[dict] = []  # what GET /orders serves
		self.stored: dict[str, dict] = {}  # what POST / PUT received, by external id
		self.overflowed = False
		self._scripts: list[tuple[str, str, list[Reply]]] = []
		self._lock = threading.Lock()
		self._next_id = 0
		self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
		self._httpd.daemon_threads = True
		self._thread = threading.Thread(
			target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
		)
		self._timer = threading.Timer(lifetime, self.stop)
		self._timer.daemon = True
		self._stopped = False

	@property
	def url(self) -> str:
		host, port = self._httpd.server_address[:2]
		return f"http://{host}:{port}{PREFIX}"

	def start(self):
		self._thread.start()
		self._timer.start()
		return self

	def stop(self):
		with self._lock:
			if self._stopped:
				return
			self._stopped = True
		self._timer.cancel()
		self._httpd.shutdown()
		self._httpd.server_close()

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()

	def script(self, method: str, path_prefix: str, *replies: Reply):
		with self._lock:
			self._scripts.append((method.upper(), PREFIX + path_prefix, list(replies)))

	def requests_to(self, method: str, path_prefix: str = "/orders") -> list[Request]:
		return [r for r in self.requests if r.method == method and r.path.startswith(PREFIX + path_prefix)]

	def add_remote_order(self, **record):
		self.remote_orders.append(record)
		return record

	# request handling
	def _scripted_reply(self, method, path):
		with self._lock:
			for script_method, prefix, replies in self._scripts:
				if script_method == method and path.startswith(prefix) and replies:
					return replies.pop(0)
		return None

	def _default_reply(self, request: Request) -> Reply:
		path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else None
		if path == "/orders" and request.method == "POST":
			with self._lock:
				self._next_id += 1
				external_id = f"EXT-{self._next_id}"
				self.stored[external_id] = request.json
			return Reply(201, {"id": external_id})
		if path and path.startswith("/orders/") and request.method == "PUT":
			external_id = path[len("/orders/") :]
			with self._lock:
				if external_id not in self.stored:
					return Reply(404, {"error": "unknown order"})
				self.stored[external_id] = request.json
			return Reply(200, {"id": external_id})
		if path == "/orders" and request.method == "GET":
			return Reply(200, self._list_page(request.query))
		return Reply(404, {"error": "not found"})

	def _list_page(self, query: dict) -> dict:
		since = query.get("updated_since")
		records = sorted(self.remote_orders, key=lambda r: _parse(r["updated_at"]))
		if since:
			records = [r for r in records if _parse(r["updated_at"]) >= _parse(since)]
		limit = int(query.get("limit") or 100)
		page = int(query.get("page") or 1)
		chunk = records[(page - 1) * limit : page * limit]
		has_more = page * limit < len(records)
		return {"data": chunk, "next_page": page + 1 if has_more else None}

	def _handle(self, handler: BaseHTTPRequestHandler):
		split = urlsplit(handler.path)
		length = int(handler.headers.get("Content-Length") or 0)
		raw = handler.rfile.read(length) if length else b""
		try:
			body = json.loads(raw) if raw else None
		except ValueError:
			body = raw.decode(errors="replace")
		request = Request(
			method=handler.command,
			path=split.path,
			query={k: v[-1] for k, v in parse_qs(split.query).items()},
			headers=dict(handler.headers.items()),
			json=body,
		)
		with self._lock:
			self.requests.append(request)
			over_limit = len(self.requests) > self.max_requests
			if over_limit:
				self.overflowed = True
		if over_limit:
			reply = Reply(503, {"error": "test server request limit reached"})
		else:
			reply = self._scripted_reply(request.method, request.path) or self._default_reply(request)
		request.status = reply.status
		if reply.delay:
			time.sleep(reply.delay)
		payload = reply.body(request) if callable(reply.body) else reply.body
		if isinstance(payload, dict | list):
			data = json.dumps(payload).encode()
			content_type = "application/json"
		else:
			data = (payload or "").encode()
			content_type = "text/plain"
		try:
			handler.send_response(reply.status)
			handler.send_header("Content-Type", content_type)
			handler.send_header("Content-Length", str(len(data)))
			for name, value in reply.headers.items():
				handler.send_header(name, value)
			handler.end_headers()
			handler.wfile.write(data)
		except (BrokenPipeError, ConnectionResetError):
			pass  # the client gave up (its timeout): that is the point of a delayed reply

	def _handler_class(self):
		server = self

		class Handler(BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"

			def do_GET(self):
				server._handle(self)

			def do_POST(self):
				server._handle(self)

			def do_PUT(self):
				server._handle(self)

			def log_message(self, format, *args):
				pass

		return Handler


def _parse(value: str) -> datetime.datetime:
	parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
	if parsed.tzinfo is None:
		parsed = parsed.replace(tzinfo=datetime.timezone.utc)
	return parsed


def iso(value: datetime.datetime) -> str:
	"""A naive UTC datetime as the API writes it."""
	return value.replace(microsecond=0).isoformat() + "Z"
