"""The teams notification channel."""
