"""The registry's domain: clusters, labels, members, people and countries (no frameworks)."""
