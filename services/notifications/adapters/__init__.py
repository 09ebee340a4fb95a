"""Adapters of the notifications service: tables and repositories."""
