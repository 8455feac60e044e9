"""Admin `status` stays cheap however large the organisation: the overview's counts come from an
index of (cohort, journey, status) and its failed deliveries from an index of the failed rows only,
on SQLite and on PostgreSQL, and the figures an admin reads are the same as before.

Before migration 0013, each `status` read the whole enrollments table and the whole outbox. At
100,000 people a burst benchmark's admins asking for `status` a few times a second slowed delivery
for everyone (bench/pg_burst.py). The query plans are the part that says whether it scales, so they
are asserted here; the cost itself is measured by the benchmark, never timed in a test.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, text

from store.db import Database
from store.models import EnrollmentRow, OutboxRow, PersonRow
from store.uow import UnitOfWorkFactory
from store.views import FAILED_PER_COHORT, OVERVIEW_COUNTS

NOW = datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
PEOPLE = 3000
COHORTS = ("north", "south", "west")


async def _fill(db: Database) -> None:
    """3,000 participants in three cohorts, each with four delivered outbox rows; seven failed
    deliveries, five of them in `south`."""
    people = [{"id": f"p{i}", "platform": "slack", "platform_user_id": f"U{i}", "created_at": NOW}
              for i in range(PEOPLE)]
    enrollments = [{"id": f"e{i}", "journey_id": "active-listening", "journey_version": 1, "person_id": f"p{i}",
                    "start": date(2027, 6, 7), "cohort": COHORTS[i % 3], "created_at": NOW,
                    "status": "paused" if i % 100 == 0 else "active"} for i in range(PEOPLE)]
    failed_in = {1, 4, 7, 10, 13, 2, 5}  # 1,4,7,10,13 are south (i % 3 == 1); 2 and 5 are west
    outbox: list[dict[str, Any]] = []
    for i in range(PEOPLE):
        for k in range(4):
            state = "failed" if k == 0 and i in failed_in else "sent"
            outbox.append({"key": f"e{i}.s{k}", "recipient_id": f"p{i}", "enrollment_id": f"e{i}",
                           "payload": {"title": "t"}, "created_at": NOW, "state": state, "error": None})
    async with db.engine.begin() as conn:
        await conn.execute(insert(PersonRow), people)
        await conn.execute(insert(EnrollmentRow), enrollments)
        await conn.execute(insert(OutboxRow), outbox)
    if db.url.startswith("postgresql"):
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE enrollments"))
            await conn.execute(text("VACUUM ANALYZE outbox"))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def _plan(db: Database, stmt: Any) -> str:
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    async with db.engine.connect() as conn:
        if db.url.startswith("postgresql"):
            rows = (await conn.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}"))).scalar_one()
            return json.dumps(rows)
        return "\n".join(str(r[-1]) for r in (await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all())


async def test_status_overview_reads_indexes_not_whole_tables(migrated_db: Database) -> None:
    db = migrated_db
    await _fill(db)

    uow = UnitOfWorkFactory(db)
    async with uow.read() as u:
        rows, failed = await u.views.status_overview()
    # what the admin reads: every cohort's counts, and the failed deliveries where they happened
    assert sorted(rows) == [(c, "active-listening", s, n) for c in COHORTS
                            for s, n in (("active", 990), ("paused", 10))]
    assert failed == {"south": 5, "west": 2}

    fails = await _plan(db, FAILED_PER_COHORT)
    assert "ix_outbox_failed" in fails, fails
    if db.url.startswith("postgresql"):
        assert "Seq Scan" not in fails, fails  # the outbox is never read whole
    else:
        # PostgreSQL's planner picks between the index and one pass over the enrollments by cost;
        # SQLite always counts from the covering index, which is smaller than the table
        counts = await _plan(db, OVERVIEW_COUNTS)
        assert "COVERING INDEX ix_enrollments_overview" in counts, counts
        assert "SCAN outbox" not in fails.replace("SCAN outbox USING INDEX ix_outbox_failed", ""), fails
