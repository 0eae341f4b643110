"""Alert rendering and delivery through apprise, from the store's outbox."""
