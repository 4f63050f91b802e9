"""The webhook notification channel."""
