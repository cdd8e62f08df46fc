"""The consumer runner: every Kafka consumer in Jinhui runs on this.

For each message: decode the CloudEvent (`decoding`), then, in one database transaction,
record its id as processed and let the handler make its change (`transactions`); only after
that transaction commits is the Kafka offset committed (`runner`). Around the handler call sit
middlewares, each one concern: counting, tracing, retrying (`retries`). What cannot be applied
goes to `<topic>.dlq` with its reason (`dead_letters`). Positions left past the end of a log
that is gone are found and read again (`positions`).
"""

from shared.kafka.consumer.config import ConsumerIO, ConsumerSettings, Subscription
from shared.kafka.consumer.messages import (
    BulkHandler,
    Handler,
    HandlerContext,
    InboundMessage,
    Rejected,
    events_of,
    events_with_ids,
)
from shared.kafka.consumer.runner import ConsumerRunner

__all__ = [
    "BulkHandler",
    "ConsumerIO",
    "ConsumerRunner",
    "ConsumerSettings",
    "Handler",
    "HandlerContext",
    "InboundMessage",
    "Rejected",
    "Subscription",
    "events_of",
    "events_with_ids",
]
