"""A person's inbox and preferences; templates in a sandbox, escaped, localised."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError

from services.notifications import operations as ops
from services.notifications.domain.commands import MarkAllRead, MarkRead, SetPreferences
from services.notifications.domain.model import Category, Channel, Recipient
from services.notifications.domain.ports import NotificationQuery
from services.notifications.messages import TEMPLATES, Template
from services.notifications.rendering import JinjaRenderer
from shared.errors import NotFound, PreconditionFailed
from tests.unit.notifications.conftest import RENDERER, Uow, known, notify, pair, person


def test_the_inbox_counts_unread_and_marks_read(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    notify(uow, pair("mentoring.pair.ended"))
    query = NotificationQuery("mentor", Channel.IN_APP)
    items, unread = ops.list_notifications(uow, query, 10, None)
    assert unread == 2 and len(items) == 2
    read = ops.mark_read(uow, MarkRead("mentor", items[0].id))
    assert read.read
    unread_only = NotificationQuery("mentor", Channel.IN_APP, unread_only=True)
    assert [n.id for n in ops.list_notifications(uow, unread_only, 10, None)[0]] == [items[1].id]
    assert ops.mark_all_read(uow, MarkAllRead("mentor")) == 1
    assert ops.list_notifications(uow, query, 10, None)[1] == 0
    # the mentee's inbox is untouched
    assert ops.list_notifications(uow, NotificationQuery("mentee"), 10, None)[1] == 2


def test_nobody_marks_another_persons_notification(uow: Uow) -> None:
    known(uow, person("mentor"), person("mentee"))
    notify(uow, pair())
    theirs = next(n for n in uow.tx.notifications.rows.values() if n.person_id == "mentee")
    with pytest.raises(NotFound):
        ops.mark_read(uow, MarkRead("mentor", theirs.id))


def test_preferences_default_on_and_changes_need_the_current_version(uow: Uow) -> None:
    assert ops.get_preferences(uow, "p1").matrix()["email"] == {
        "registry": True,
        "mentoring": True,
        "events": True,
    }
    saved = ops.set_preferences(
        uow, SetPreferences("p1", {Channel.IN_APP: {Category.MENTORING: False}}, 0)
    )
    assert saved.version == 1 and not saved.allows(Category.MENTORING, Channel.IN_APP)
    with pytest.raises(PreconditionFailed):
        ops.set_preferences(uow, SetPreferences("p1", {Channel.EMAIL: {}}, 0))


def _renderer(body: str) -> JinjaRenderer:
    return JinjaRenderer({"x.y.z": {"en": Template("Hi {{ recipient.name }}", body)}})


def test_html_escapes_values_and_text_keeps_them() -> None:
    renderer = _renderer("Title: {{ data.title }}")
    rendered = renderer.render(
        "x.y.z", "fr", {"title": "<script>x</script>"}, Recipient("p", "A & B", None, "fr")
    )
    assert rendered.language == "en"  # no French template: English
    assert rendered.subject == "Hi A & B"
    assert rendered.text == "Title: <script>x</script>"
    assert "&lt;script&gt;" in rendered.html and "<script>" not in rendered.html


def test_a_template_cannot_reach_python_internals() -> None:
    renderer = _renderer("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(SecurityError):
        renderer.render("x.y.z", "en", {}, Recipient("p", "P", None, "en"))


def test_times_show_in_the_events_zone_and_the_persons_language() -> None:
    renderer = _renderer("{{ data.starts_at | when }}")
    data = {"starts_at": "2030-03-04T08:30:00+00:00", "timezone": "Asia/Amman"}
    rendered = renderer.render("x.y.z", "en", data, Recipient("p", "P", None, "en"))
    assert rendered.text == "Monday 4 March 2030, 11:30 (Asia/Amman)"


def test_every_template_renders_its_sample_in_every_language() -> None:
    from booster.catalogue import platform_catalogue
    from services.notifications.samples import SAMPLES

    assert set(SAMPLES) == set(TEMPLATES)
    for event_type, data in SAMPLES.items():
        platform_catalogue().make_event(event_type, subject=None, data=data)  # valid data
        for language in ("en", "fr", "ar"):
            recipient = Recipient("sample-person", "Salma", None, language)
            rendered = RENDERER.render(event_type, language, data, recipient)
            assert rendered.language == language
            assert rendered.subject and "\n" not in rendered.subject, event_type
            assert "Salma" in rendered.text, (event_type, language)
            assert ('dir="rtl"' in rendered.html) == (language == "ar")
            assert "{{" not in rendered.text and "None" not in rendered.text, (event_type, language)
