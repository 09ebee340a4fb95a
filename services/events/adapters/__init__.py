"""Adapters of the events service: tables and repositories."""
