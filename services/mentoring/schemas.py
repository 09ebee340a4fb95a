"""The mentoring service's HTTP schemas (marshmallow); none yet, as it has no routes."""
