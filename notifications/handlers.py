"""Signal receivers: registration and event changes become outbox rows (see notifications.services)."""
