"""The Prometheus metrics an on-call engineer reads first. Names are documented in
docs/operations.md; renaming one breaks dashboards and alerts."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_LATENCY = Histogram(
    "jinhui_http_request_duration_seconds",
    "HTTP request latency by route",
    ["service", "method", "route", "status"],
)
HTTP_REFUSED = Counter(
    "jinhui_http_refused_overload_total",
    "API requests refused at once (503) because too many were under way",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "jinhui_outbox_published_total", "Outbox rows published to Kafka", ["service"]
)
OUTBOX_BACKLOG = Gauge("jinhui_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "jinhui_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_RESENT = Counter(
    "jinhui_outbox_resent_total",
    "Outbox rows sent again after the broker lost its data (only what a reader had not read)",
    ["service"],
)
READ_BY_ALL = Gauge(
    "jinhui_topic_read_by_all_timestamp_seconds",
    "Every row this service published before this time has been read by every reader",
    ["service", "topic"],
)
CONSUMED = Counter(
    "jinhui_consumer_messages_total",
    "Messages a consumer finished, by outcome (processed, duplicate, ignored, dead_lettered)",
    ["group", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "jinhui_consumer_lag", "Messages behind the partition end", ["group", "topic", "partition"]
)
DEAD_LETTERED = Counter(
    "jinhui_dlq_messages_total",
    "Messages sent to a dead-letter topic",
    ["group", "topic", "reason"],
)
CONSUMER_RETRIES = Counter(
    "jinhui_consumer_retries_total",
    "Handler attempts that failed and were retried",
    ["group", "error"],
)
DECISIONS = Counter(
    "jinhui_decisions_total", "Entitlement decisions by outcome and clause", ["outcome", "clause"]
)
HR_EVENTS_APPLIED = Counter(
    "jinhui_hr_events_total",
    "HR events handled by the members service, by type and outcome (applied, duplicate, parked)",
    ["type", "outcome"],
)
BIRTHDAYS_RECORDED = Counter(
    "jinhui_birthdays_recorded_total", "BirthdayReached events recorded by the scheduler"
)
ROSTER_ROWS = Counter("jinhui_roster_rows_total", "Roster import rows by outcome", ["outcome"])
BATCH_LINES = Counter("jinhui_batch_lines_total", "Disbursement batch lines opened", ["benefit"])
BATCHES_IN_PROGRESS = Gauge(
    "jinhui_batches_in_progress", "Disbursement batches whose lines are still being opened"
)
TASK_UP = Gauge(
    "jinhui_background_task_up",
    "1 while a background task (relay, consumer, worker) works; 0 while it fails or restarts",
    ["service", "task"],
)
TASK_RESTARTS = Counter(
    "jinhui_background_task_restarts_total",
    "Background tasks restarted by the supervisor after an error",
    ["service", "task", "error"],
)
HR_CONFLICTS = Counter(
    "jinhui_hr_conflicts_total",
    "HR events put on the conflict list for an operator (id-number-in-use, never-hired)",
    ["kind"],
)
