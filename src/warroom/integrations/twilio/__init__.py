"""The twilio notification channel."""
