"""Sample data of each notifying event type, for template previews (valid per the catalogue)."""

from __future__ import annotations

from typing import Any

_START, _END = "2030-03-04T08:30:00+00:00", "2030-03-04T10:30:00+00:00"
_PERSON = {"person_id": "sample-person", "name": "Salma Idrissi", "language": "fr"}
_OTHER = {"person_id": "sample-mentor", "name": "Nadia Mansour", "language": "ar"}
_PAIR = {
    "id": "sample-pair",
    "programme_id": "sample-programme",
    "programme_name": "Cluster Mentoring Reloaded",
    "mentor": _OTHER,
    "mentee": _PERSON,
}
_EVENT = {
    "id": "sample-event",
    "kind": "business_trip",
    "title": "Business trip to Lyon",
    "format": "in_person",
    "starts_at": _START,
    "ends_at": "2030-03-06T16:00:00+00:00",
    "timezone": "Europe/Paris",
    "city": "Lyon",
    "country": "FR",
    "online_link": None,
}
_REGISTRATION = {
    "id": "sample-registration",
    "event_id": "sample-event",
    "person_id": "sample-person",
    "status": "confirmed",
    "waitlist_position": None,
    "event": _EVENT,
}
_SESSION = {
    "id": "sample-session",
    "programme_id": "sample-programme",
    "kind": "bilateral",
    "title": "Export strategy",
    "starts_at": _START,
    "ends_at": _END,
    "timezone": "Africa/Casablanca",
    "pair_ids": ["sample-pair"],
    "person_ids": ["sample-person", "sample-mentor"],
    "online_link": "https://meet.example.org/export",
    "agenda": "Goals for the quarter",
    "status": "scheduled",
}
_MOVED = {
    "previous_starts_at": "2030-03-01T08:30:00+00:00",
    "previous_ends_at": "2030-03-01T10:30:00+00:00",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "registry.person.registered": {
        "id": "sample-person",
        "name": "Salma Idrissi",
        "email": "salma@example.org",
        "language": "fr",
        "cluster_id": None,
        "country": "MA",
        "role": "cluster_manager",
        "phone": None,
    },
    "mentoring.enrolment.accepted": {
        "id": "sample-enrolment",
        "programme_id": "sample-programme",
        "programme_name": "Cluster Mentoring Reloaded",
        "person": _PERSON,
        "role": "mentee",
        "languages": ["fr", "en"],
        "competencies": ["internationalisation"],
        "sectors": ["agrifood"],
        "capacity": None,
    },
    "mentoring.pair.matched": {
        **_PAIR,
        "score": 0.82,
        "reasons": [
            "shared language: fr",
            "competency fit: offers 1 of 2 wanted competencies: funding",
        ],
    },
    "mentoring.pair.ended": {**_PAIR, "status": "ended", "reason": "The cluster was deactivated."},
    "mentoring.session.scheduled": _SESSION,
    "mentoring.session.rescheduled": {**_SESSION, **_MOVED},
    "mentoring.session.cancelled": {**_SESSION, "status": "cancelled", "reason": "Illness"},
    "events.registration.confirmed": _REGISTRATION,
    "events.registration.waitlisted": {
        **_REGISTRATION,
        "status": "waitlisted",
        "waitlist_position": 3,
    },
    "events.registration.promoted": _REGISTRATION,
    "events.registration.cancelled": {
        **_REGISTRATION,
        "status": "cancelled",
        "reason": "Changed plans",
    },
    "events.event.rescheduled": {
        **_EVENT,
        "status": "published",
        "capacity": 20,
        "registration_closes_at": None,
        "changed": ["starts_at", "ends_at"],
        "previous": {
            **{k: _EVENT[k] for k in ("timezone", "city", "country", "online_link")},
            "starts_at": "2030-03-02T08:30:00+00:00",
            "ends_at": "2030-03-04T16:00:00+00:00",
        },
        "person_ids": ["sample-person"],
    },
    "events.event.cancelled": {
        **_EVENT,
        "status": "cancelled",
        "capacity": 20,
        "registration_closes_at": None,
        "reason": "Travel restrictions",
        "person_ids": ["sample-person"],
    },
}
"""Event type -> sample data (the preview's default)."""
