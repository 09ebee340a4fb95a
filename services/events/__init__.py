"""The events service: events, business trips, registrations and waitlists."""
