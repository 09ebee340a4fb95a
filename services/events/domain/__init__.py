"""The events service's domain: events, registrations and the waitlist (no Flask, no kombu)."""
