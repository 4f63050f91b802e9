"""Contact methods, personal notification rules, the outbox and its sender."""
