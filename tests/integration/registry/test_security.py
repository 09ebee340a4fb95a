"""What a person's own (``self``) token may read in the registry.

The token and scope checks of every route are in ``tests/integration/test_route_security.py``.
"""

from __future__ import annotations

from booster.testing import ServiceHarness
from tests.integration.registry.conftest import new_person


def test_a_self_token_reads_only_its_own_person(registry: ServiceHarness) -> None:
    me = new_person(registry)
    other = new_person(registry, email="someone.else@example.org", name="Someone Else")
    client = registry.client
    mine = client.get(f"/api/v1/people/{me['id']}", headers=registry.headers("self", sub=me["id"]))
    assert mine.status_code == 200 and mine.get_json()["email"] == "amina@example.org"
    theirs = client.get(
        f"/api/v1/people/{other['id']}", headers=registry.headers("self", sub=me["id"])
    )
    assert theirs.status_code == 403
    listing = client.get("/api/v1/people", headers=registry.headers("self", sub=me["id"]))
    assert listing.status_code == 403
