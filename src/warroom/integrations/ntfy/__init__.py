"""The ntfy notification channel."""
