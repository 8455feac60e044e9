"""The integration tests' databases: the store's schema through every migration, on a SQLite file
and on a fresh database of the throwaway PostgreSQL cluster, so one check runs on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.devtools.simulation import Persona, Simulation
from journeys.definition import Journey
from journeys.transcript import Transcript
from store.db import Database
from store.migrate import upgrade_async
from tests.fault.conftest import postgres_url  # noqa: F401  (the throwaway cluster, a fixture here too)
from tests.integration.pg import fresh_database


def _prefix(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL database's name prefix: the test module's (`test_cohort_roles` -> `cohort_roles`)."""
    return request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture
async def postgres_db(request: pytest.FixtureRequest, postgres_url: str) -> AsyncIterator[Database]:  # noqa: F811
    """A new database on the throwaway cluster, migrated to head, dropped from use after the test."""
    db = await fresh_database(postgres_url, _prefix(request))
    yield db
    await db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def migrated_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on a SQLite file and on PostgreSQL, each brought to head by the migrations."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
        await upgrade_async(db)
    else:
        db = await fresh_database(request.getfixturevalue("postgres_url"), _prefix(request))
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def silent_report(journey: Journey) -> Transcript:
    """Jun Mori, a manager in Tokyo, with Ned in New York who answers nothing and Dina in London who
    answers everything: the journey lived once through the real service, SQLite store, scheduler
    tick and console adapter (the simulation `hplj audit` runs), for the tests of what Jun hears."""
    cast = [
        Persona("jun", "Jun Mori", "Asia/Tokyo", "JP", "manager", "diligent", "manager in Tokyo"),
        Persona("ned", "Ned Park", "America/New_York", "US", "participant", "ignores", "silent", manager="jun"),
        Persona("dina", "Dina Lowe", "Europe/London", "GB", "participant", "diligent", "diligent", manager="jun"),
    ]
    return asyncio.run(Simulation(journey, date(2027, 4, 12), cast).run())
