"""The email notification channel."""
