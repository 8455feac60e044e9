"""The outbox's claim and settle on SQLite's driver path (store/outbox.py) do exactly what
SQLAlchemy's statements do: the same rows claimed in the same order (a row whose sender's lease ran
out comes back in doubt; a live lease, a later retry and a sent row stay out), the same rows
written, byte for byte, for every way an attempt ends (sent, retried later, rate limited, failed,
held), and nothing at all written by a sender whose lease was taken over."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from store import hotpath
from store.db import Database
from store.models import OutboxRow
from store.records import OutboxItem, Settlement
from store.uow import UnitOfWorkFactory

NOW = datetime(2027, 4, 12, 9, 30, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)

ENDINGS = [
    Settlement("sent", sent_at=NOW + timedelta(seconds=1, microseconds=7), conversation_id="D1", message_id="m1"),
    Settlement("pending", next_attempt_at=NOW + timedelta(seconds=30), error="service_unavailable",
               in_doubt=False),
    Settlement("pending", next_attempt_at=NOW + timedelta(seconds=2.5), error="ratelimited", attempts=0,
               in_doubt=True, ambiguous=True),
    Settlement("failed", error="channel_not_found: 'quoted' \u2013 text"),
    Settlement("expired", error="stale: the moment for this prompt has passed"),
    Settlement("pending", next_attempt_at=NOW + timedelta(hours=14), attempts=-1),  # held for working hours
]


OTHERS = [  # rows besides the due ones: (key, state, next attempt, lease until, attempts)
    ("vanished:1", "sending", NOW - timedelta(minutes=9), NOW - timedelta(seconds=1), 2),  # lease ran out
    ("busy:1", "sending", NOW - timedelta(minutes=9), NOW + timedelta(minutes=1), 1),  # a live sender's
    ("later:1", "pending", NOW + timedelta(minutes=1), None, 0),
    ("done:1", "sent", None, None, 1),
]


async def settle_all(path: Path, owner_of_last: str) -> list[OutboxItem]:
    db = Database(f"sqlite:///{path}")
    units = UnitOfWorkFactory(db)
    try:
        async with db.write() as s:
            await s.execute(insert(OutboxRow), [
                {"key": f"k{i}:1", "recipient_id": f"p{i}", "payload": {"text": f"hello {i}"},
                 "next_attempt_at": NOW - timedelta(minutes=i), "created_at": NOW - timedelta(hours=1)}
                for i in range(len(ENDINGS) + 1)])
            await s.execute(insert(OutboxRow), [
                {"key": k, "recipient_id": "q", "payload": {"text": k}, "state": state, "next_attempt_at": nxt,
                 "lease_until": until, "lease_owner": "w0" if until else None, "attempts": n, "created_at": NOW}
                for k, state, nxt, until, n in OTHERS])
        async with units() as uow:
            claimed = await uow.outbox.claim(NOW, 100, lease_until=LEASE, owner="w1")
            await uow.commit()
        assert len(claimed) == len(ENDINGS) + 2
        by_key = {r.key: r for r in claimed}
        for i, how in enumerate(ENDINGS):
            async with units() as uow:
                await uow.outbox.settle(by_key[f"k{i}:1"].id, "w1", how)
                await uow.commit()
        # a sender that lost its lease settles nothing
        async with units() as uow:
            await uow.outbox.settle(by_key[f"k{len(ENDINGS)}:1"].id, owner_of_last, Settlement("sent", sent_at=NOW))
            await uow.commit()
    finally:
        await db.dispose()
    return claimed


def outbox(path: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute("select * from outbox order by id").fetchall()
    finally:
        con.close()


async def test_settle_on_the_driver_writes_what_sqlalchemy_writes(tmp_path, monkeypatch):
    for name in ("driver.db", "sqlalchemy.db"):
        db = Database(f"sqlite:///{tmp_path / name}")
        await db.create_all()
        await db.dispose()
    claimed = await settle_all(tmp_path / "driver.db", "w2")
    with monkeypatch.context() as m:
        m.setattr(hotpath, "fast", lambda session: False)
        claimed_by_sqlalchemy = await settle_all(tmp_path / "sqlalchemy.db", "w2")

    assert claimed == claimed_by_sqlalchemy
    assert [r.key for r in claimed][:2] == ["vanished:1", "k6:1"]  # oldest due first
    assert [(r.in_doubt, r.attempts, r.state) for r in claimed][:2] == [(True, 3, "sending"), (False, 1, "sending")]

    fast, slow = outbox(tmp_path / "driver.db"), outbox(tmp_path / "sqlalchemy.db")
    assert fast == slow
    states = [r[6] for r in fast]
    assert states == ["sent", "pending", "pending", "failed", "expired", "pending", "sending",
                      "sending", "sending", "pending", "sent"]
    assert fast[6][10] == "w1"  # the row whose lease was taken over still belongs to its holder
