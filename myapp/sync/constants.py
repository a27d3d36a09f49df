"""Names shared by the sync modules: DocTypes, the sync status model, run limits."""

SETTINGS = "Sync Settings"
ORDER = "Sales Order"
LOG = "Sync Log"

PENDING = "Pending"
SYNCED = "Synced"
RETRY_PENDING = "Retry Pending"
FAILED = "Failed"
ERROR = "Error"
DUE_STATUSES = (PENDING, RETRY_PENDING)
RETRYABLE_BY_USER = (FAILED, ERROR, RETRY_PENDING)

# The order's own sync bookkeeping (custom fields, see myapp/install.py).
SYNC_STATE_FIELDS = (
	"custom_sync_status",
	"custom_sync_attempts",
	"custom_sync_error",
	"custom_next_sync_at",
	"custom_sync_date",
)

# Scheduled jobs run on the default queue, which kills a job after 300 s: a run stops starting
# requests once less than one request timeout is left before this budget.
RUN_TIME_BUDGET_SECONDS = 270
# A sweep pushes at most this many batches, whatever the budget says.
SWEEP_MAX_BATCHES = 100
PUSH_NOW_JOB_ID = "myapp::sync::push_now"
logger_name = "myapp.sync"
