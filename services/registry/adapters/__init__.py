"""Adapters of the registry service: tables and repositories."""
