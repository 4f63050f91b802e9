"""The slack notification channel."""
