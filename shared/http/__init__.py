"""HTTP pieces shared by every service (app factory, problem+json, health, ids)."""

from shared.http.app import create_service_app
from shared.http.problems import PROBLEM_JSON, problem

__all__ = ["PROBLEM_JSON", "create_service_app", "problem"]
