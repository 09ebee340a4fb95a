"""The notifications service: recipients, preferences, in-app inbox, email and webhooks."""
