"""Dashboard and export links against hostile holders (issue 12, item 5, and the query-string fuzz)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.dashboard.links import make_link
from journeys.definition import Journey
from journeys.loader import default_library_path, load_library
from store.models import AuditRow, InboundRow, PersonRow
from tests.e2e.test_export_download import Served, served
from tests.e2e.test_export_download import _reveals as _reveals_json

__all__ = ["served"]  # the export tests' served app, used here as a fixture


@pytest.fixture(scope="module")
def library() -> dict[str, Journey]:
    return load_library(default_library_path())


def _reveals(body: bytes, ids: dict[str, str]) -> list[str]:
    """Who a refusal page gives away (an HTML page has braces in its CSS: those are not data)."""
    return [n for n in _reveals_json(body, ids) if n != "{"]


async def test_a_dashboard_link_dies_with_its_admin(served: Served) -> None:
    """Item 5: like export links, a dashboard link stops working when its admin is removed."""
    assert "now a journey admin" in (await served.cmd("admins add @ben")).text
    url = (await served.cmd("dashboard", user="ben")).links[0].url
    assert (await served.get(url))[0] in (200, 404)  # 404: the page of a cohort without results yet
    assert "no longer a journey admin" in (await served.cmd("admins remove @ben")).text
    status, _, body = await served.get(url)
    assert status == 403 and b"no longer a journey admin" in body and _reveals(body, served.ids) == []


async def test_a_dashboard_link_for_a_non_admin_or_nobody_is_refused(served: Served) -> None:
    """Item 5: a correctly signed link minted for a participant or an unknown actor id opens nothing."""
    for actor in (served.ids["ana"], "p_nobody", "admin"):  # "admin" is a platform id, not a person id
        url = make_link(served.svc, actor)
        status, _, body = await served.get(url)
        assert status == 403, actor
        assert _reveals(body, served.ids) == []


async def _state(served: Served) -> tuple[int, ...]:
    async with served.svc.db.read() as s:
        return tuple([(await s.execute(select(func.count()).select_from(m))).scalar_one()
                      for m in (AuditRow, InboundRow, PersonRow)])


query_values = st.text(st.characters(codec="utf-8"), max_size=60)
queries = st.dictionaries(st.sampled_from(["actor", "scope", "exp", "sig", "cohort", "person", "x"]),
                          query_values | st.sampled_from(["*", "0", "9" * 400, "-1", "1e309", "nan"]), max_size=6)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=queries, path=st.sampled_from(["/dashboard", "/dashboard/export"]))
@example(query={"actor": "p", "scope": "*", "exp": "9" * 400, "sig": "00"}, path="/dashboard")
@example(query={"actor": "p", "person": "p", "exp": "1e309", "sig": "zz"}, path="/dashboard/export")
async def test_fuzzed_link_queries_are_refused_without_a_trace(served: Served, query: dict[str, str],
                                                               path: str) -> None:
    """Property: any query string that was not signed by the bot gets a 4xx, reveals nobody, and
    changes nothing (no audit row, no person)."""
    before = await _state(served)
    base = str(served.server.make_url(path))
    status, _, body = await served.get(f"{base}?{urlencode(query)}")
    assert 400 <= status < 500, (status, query)
    assert b"Traceback" not in body and _reveals(body, served.ids) == []
    assert await _state(served) == before


async def test_a_signed_link_with_an_absurd_expiry_is_refused(served: Served) -> None:
    """Issue 23, item 12: a correctly signed link whose expiry is centuries away (or past any
    calendar) is a 403 naming nobody, not a 500."""
    from bot.dashboard.links import export_query, link_query, secret_for

    admin = (await served.svc.ensure_person("console", "admin")).id
    key = secret_for(served.svc.settings)
    base = str(served.server.make_url("/")).rstrip("/")
    for exp in (10**12, 10**18, int(served.clock.now().timestamp()) + 400 * 86400):
        for path, q in (("/dashboard", link_query(key, admin, exp)),
                        ("/dashboard/export", export_query(key, admin, served.ids["ana"], exp))):
            status, _, body = await served.get(f"{base}{path}?{urlencode(q)}")
            assert status == 403, (path, exp, status)
            assert b"Traceback" not in body and _reveals(body, served.ids) == []
