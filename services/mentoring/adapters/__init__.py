"""Adapters of the mentoring service: tables and repositories."""
