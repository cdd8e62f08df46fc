"""Event store, transactional outbox and the relay that publishes it."""

from shared.eventstore.store import EventStore, RecordedEvent, StoredEvent
from shared.eventstore.tables import EventStoreTables, event_store_tables

__all__ = ["EventStore", "EventStoreTables", "RecordedEvent", "StoredEvent", "event_store_tables"]
