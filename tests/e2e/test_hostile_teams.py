"""Hostile input over Teams' real HTTP path (issue 12, items 3 and 6; the Teams side of item 1).

The real `BotService` behind `build_app`, Teams in local mode or with an app id, replies going to
`FakeConnector`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from store.models import AuditRow, InboundRow, PersonRow
from tests.e2e.test_teams_scenario import (
    ADMIN,
    ANA,
    BOT,
    World,
    close_world,
    install_everyone,
    make_world,
    mention,
    message,
    teams_settings,
)
from tests.json_walk import walk

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

APP_ID = "11111111-2222-3333-4444-555555555555"
NESTED = b"[" * 1100 + b"]" * 1100  # ~2 KB: json.loads raises RecursionError on it
NESTED_ACTIVITY = ('{"type":"message","value":' + "[" * 1000 + "]" * 1000 + "}").encode()


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path)
    yield w
    await close_world(w)


@pytest.fixture
async def with_app_id(tmp_path: Path) -> AsyncIterator[World]:
    w = await make_world(tmp_path, settings_=teams_settings(microsoft_app_id=APP_ID, microsoft_app_password="pw",
                                                            teams_local_mode=False))
    yield w
    await close_world(w)


async def _counts(w: World) -> tuple[int, ...]:
    return tuple([await w.scalar(select(func.count()).select_from(m)) for m in (PersonRow, InboundRow, AuditRow)])


def _no_errors(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.parametrize("body", [NESTED, NESTED_ACTIVITY])
@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer not-a-jwt"}])
async def test_nested_json_with_an_app_id_is_refused_before_parsing(
        with_app_id: World, caplog: pytest.LogCaptureFixture, body: bytes, auth: dict[str, str]) -> None:
    """Item 3: unauthenticated deeply nested JSON: a 4xx, no RecursionError, nothing stored."""
    caplog.set_level(logging.INFO)
    before = await _counts(with_app_id)
    status, reply = await with_app_id.post(body, auth)
    assert status in (400, 401), (status, reply)
    if not auth:
        assert status == 401  # no bearer token: refused before the body is read
    assert "Traceback" not in json.dumps(reply)
    assert await _counts(with_app_id) == before
    _no_errors(caplog)


async def test_nested_json_in_local_mode_is_a_400(local: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for body in (NESTED, NESTED_ACTIVITY):
        status, reply = await local.post(body)
        assert status == 400 and "nested" in json.dumps(reply), reply
    _no_errors(caplog)


async def test_a_redelivered_admin_command_runs_once(local: World) -> None:
    """Item 6: the same Teams activity (same id) twice: one reply, one set of audit rows."""
    w = local
    await install_everyone(w)
    act = message(ADMIN, w.fake.url, f"<at>HPLJ Coach</at> journey admins add <at>{ANA.name}</at>",
                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}, mention(ANA)])
    before = len(w.calls_to(ADMIN))
    assert (await w.post(act))[0] == 200
    replies = len(w.calls_to(ADMIN))
    audits = await w.scalar(select(func.count()).select_from(AuditRow))
    assert replies == before + 1
    assert (await w.post(act))[0] == 200
    assert len(w.calls_to(ADMIN)) == replies
    assert await w.scalar(select(func.count()).select_from(AuditRow)) == audits
    other = dict(act, id=str(act["id"]) + "-new")  # a new activity with the same words still runs
    assert (await w.post(other))[0] == 200
    assert len(w.calls_to(ADMIN)) == replies + 1


async def test_typed_markdown_in_a_reply_is_not_a_link(local: World) -> None:
    """Item 1, Teams side: what an admin typed is echoed as text, never as a Markdown link or HTML."""
    w = local
    await install_everyone(w)
    before = len(w.calls_to(ADMIN))
    act = message(ADMIN, w.fake.url, "<at>HPLJ Coach</at> journey status [approve](https://evil.example)",
                  [{"type": "mention", "text": "<at>HPLJ Coach</at>", "mentioned": dict(BOT)}])
    assert (await w.post(act))[0] == 200
    sent = w.calls_to(ADMIN)[before:]
    assert "evil.example" in json.dumps([(c.text, c.card) for c in sent])  # the words are shown...
    for call in sent:
        texts: list[str] = [call.text or ""]
        texts += [b.get("text", "") for b in walk(call.card or {}) if b.get("type") in ("TextBlock", "Fact")]
        for t in texts:  # ...but never as a link or a tag
            assert "](https://evil" not in t and "<b>" not in t, t


