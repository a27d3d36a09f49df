"""External order sync (example 2 + workflow 5): push submitted Sales Orders, pull external updates.

One status model on Sales Order (`custom_sync_status`):

	Pending -> Synced
	Pending -> Retry Pending (attempts, last error, next attempt time) -> ... -> Synced
	                                                                      -> Failed (max attempts)
	Pending -> Error (the API rejected the order with a 4xx other than 429: retrying cannot help)

Submitting (or submitting an amendment of) an order marks it Pending. Three scheduled entry
points share one push path, `push.push_order`:

- `push_to_external` (every 15 minutes): one batch of orders that are due.
- `sync_to_external_system` (hourly sweep, workflow 5): batches until nothing is due.
- `sync_from_external` (hourly): pull records updated since the stored cursor.

An order is never pushed by two workers at once: each push holds the order's row lock
(`SELECT ... FOR UPDATE SKIP LOCKED`) from the moment it checks the order is due until its
result is committed; another worker skips a locked order, and a killed worker's lock goes with
its connection. The API key is read from the Password field when a run starts, sent only in the
Authorization header and redacted from every message this package stores.

A pulled record (one element of the API's `data` list) that is not yet a local order becomes a
draft Sales Order that ERPNext 15 accepts as it is. It carries:

- `id` (required): the external id, stored as the order's External ID;
- `customer` (required): the name of an existing Customer;
- `items` (required, not empty): `[{"sku", "qty", "rate", "warehouse"?}]`, `sku` the code of an
  existing Item, `qty` > 0 in the item's stock UOM, `rate` in the order's currency;
- `date` (the order date, default today), `delivery_date` (default the order date, never before it);
- `company` (default Sync Settings' *Company for New Orders*);
- `warehouse` on a line or on the record: for a stock item the first of these that is an enabled,
  non-group warehouse of the company is used: the record's, the Item's default warehouse for the
  company (Item Defaults), Sync Settings' *Default Warehouse*, Stock Settings' *Default Warehouse*;
  with none the record is skipped;
- `currency` (default the company's) and, when it is not the company's currency, `conversion_rate`
  (1 unit of it in the company's currency; without one the record is skipped, since ERPNext would
  look a rate up);
- `status` (stored as External Status), `updated_at` (ISO 8601; advances the pull cursor),
  `order_id` (optional: our order whose POST response was lost, linked instead of copied).

A record that cannot become an order is skipped with its reason in the Error Log
("External sync: skipped pulled order <id>").

Modules: `constants` (names, statuses, limits), `client` (Sync Settings, `ExternalAPI`),
`order_events` (Sales Order doc events), `push` (the push path, `PushRun`, outcomes, notices),
`actions` (the Retry buttons), `pull` (pages, cursor, upsert), `pulled_order` (a valid draft
Sales Order from a record), `log` (Sync Log). The names below are the public entry points,
addressed as `myapp.sync.<name>` by hooks.py, myapp.tasks, myapp.api and admins.
"""

from myapp.sync.actions import enqueue_push_now, failed_orders, mark_for_retry
from myapp.sync.client import ExternalAPI, get_settings
from myapp.sync.constants import (
	DUE_STATUSES,
	ERROR,
	FAILED,
	PENDING,
	RETRY_PENDING,
	RETRYABLE_BY_USER,
	SYNCED,
)
from myapp.sync.log import write_sync_log
from myapp.sync.order_events import mark_pending_on_submit, reset_sync_fields_on_copy
from myapp.sync.pull import (
	fetch_page,
	format_api_datetime,
	parse_api_datetime,
	sync_from_external,
	upsert_order,
	upsert_pulled_record,
)
from myapp.sync.pulled_order import create_order
from myapp.sync.push import PushRun, push_order, push_to_external, run_push, sync_to_external_system

__all__ = [
	"DUE_STATUSES",
	"ERROR",
	"FAILED",
	"PENDING",
	"RETRYABLE_BY_USER",
	"RETRY_PENDING",
	"SYNCED",
	"ExternalAPI",
	"PushRun",
	"create_order",
	"enqueue_push_now",
	"failed_orders",
	"fetch_page",
	"format_api_datetime",
	"get_settings",
	"mark_for_retry",
	"mark_pending_on_submit",
	"parse_api_datetime",
	"push_order",
	"push_to_external",
	"reset_sync_fields_on_copy",
	"run_push",
	"sync_from_external",
	"sync_to_external_system",
	"upsert_order",
	"upsert_pulled_record",
	"write_sync_log",
]
