"""What Jinhui's four services share: envelope, event store, outbox, consumer runner, settings,
auth, telemetry and the local stack."""
