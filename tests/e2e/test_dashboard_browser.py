"""The admin dashboard in a real browser: Playwright driving Debian's Chromium.

Seeds the demo cohort into SQLite, serves `build_app` on a free port and opens signed links.
Chromium comes from `.ci/install-chromium.sh` (`/usr/bin/chromium`), never from Playwright's own
download. Without it the test is skipped locally and fails in CI (`CI=true`).
Screenshots: `test-artifacts/dashboard.png` (laptop) and `test-artifacts/dashboard-phone.png`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _need(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run; see .ci/install-chromium.sh)")
    pytest.skip(reason, allow_module_level=True)


if not CHROMIUM.exists():
    _need("Debian Chromium is not installed at /usr/bin/chromium; run .ci/install-chromium.sh")
try:
    from playwright.async_api import Browser, async_playwright
except ImportError:  # pragma: no cover - depends on the environment
    _need("the Python package 'playwright' is not installed (pip install -e .[test])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from bot.devtools.demo import run_demo

    path = tmp_path_factory.mktemp("dash") / "demo.db"
    summary = asyncio.run(run_demo(quiet=True, db_path=path))
    return SimpleNamespace(path=path, end=summary.end, cohort=summary.cohort)


@pytest.fixture
async def served(seeded: Any) -> AsyncIterator[Any]:
    from bot.app.wiring import build_app
    from bot.services.clock import SimulatedClock
    from journeys.loader import default_library_path, load_library
    from store.db import Database
    from store.models import PersonRow
    from tests.worlds import deployment_settings, service_on

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = deployment_settings(dashboard_secret="test-dashboard-secret", public_url=base)
    db = Database(f"sqlite:///{seeded.path}")
    clock = SimulatedClock(seeded.end)
    service = await service_on(db, load_library(default_library_path()), {}, clock, settings=settings,
                               admins={"U-admin"})
    async with db.write() as s:  # the links' actor: a stored admin (a link dies with its admin)
        existing = await s.get(PersonRow, "U-admin")
        if existing is None:
            s.add(PersonRow(id="U-admin", platform="console", platform_user_id="U-admin", name="Admin",
                            created_at=seeded.end, greeted=True))
    runner = web.AppRunner(build_app(service, settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield SimpleNamespace(service=service, clock=clock, base=base, settings=settings, cohort=seeded.cohort)
    finally:
        await runner.cleanup()
        await db.dispose()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


A11Y_PROBLEMS = """() => {
  const problems = [];
  const named = (el) => {
    if ((el.getAttribute('aria-label') || '').trim()) return true;
    const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    if (ids.length && ids.every(id => (document.getElementById(id)?.textContent || '').trim())) return true;
    if (el.labels && [...el.labels].some(l => l.textContent.trim())) return true;
    const t = el.querySelector(':scope > title');
    return !!(t && t.textContent.trim());
  };
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button, svg')) {
    if (el.tagName.toLowerCase() === 'svg' && el.getAttribute('aria-hidden') === 'true') continue;
    if (!named(el)) problems.push(el.outerHTML.slice(0, 80));
    if (el.tagName.toLowerCase() === 'svg' && el.getAttribute('role') !== 'img') problems.push('svg without role=img');
  }
  for (const a of document.querySelectorAll('a')) if (!a.textContent.trim() && !named(a)) problems.push('empty link');
  for (const t of document.querySelectorAll('table')) if (!t.querySelector('caption, th')) problems.push('table without headers');
  if (!document.documentElement.lang) problems.push('no lang');
  return problems;
}"""


async def assert_no_serious_axe_findings(page: Any) -> None:
    """axe-core (bundled by axe-playwright-python) on the page: no critical or serious violation."""
    try:
        from axe_playwright_python.async_playwright import Axe
    except ImportError:  # pragma: no cover - depends on the environment
        _need("the Python package 'axe-playwright-python' is not installed (pip install -e .[test])")
    results = await Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v.get("impact") in ("critical", "serious")]
    assert bad == [], bad


async def test_signed_link_shows_the_seeded_cohort(served: Any, browser: Browser) -> None:
    from bot.dashboard.links import make_link
    from bot.devtools.demo import PEOPLE
    from bot.services.reports import cohort_evaluation

    ev, _title = await cohort_evaluation(served.service, served.cohort)
    assert ev is not None and ev.impact.value is not None
    impact = f"{round(ev.impact.value * 100)}%"
    of = f"{ev.impact.count} of {ev.impact.total}"

    url = make_link(served.service, "U-admin")
    assert url.startswith(served.base + "/dashboard?")
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    resp = await page.goto(url)
    assert resp is not None and resp.status == 200
    assert (await page.title()).strip()
    assert await page.locator("h1").count() == 1
    assert served.cohort in (await page.locator("h1").inner_text())

    impact_section = page.locator("section", has=page.locator("#h-impact"))
    text = await impact_section.inner_text()
    assert impact in text and of in text
    assert impact in await page.locator(".kpis").inner_text()
    ci_desc = await page.locator("#ci-d").text_content() or ""
    assert f"{round((ev.impact.low or 0) * 100)}%" in ci_desc and f"{round((ev.impact.high or 0) * 100)}%" in ci_desc

    # The funnel: an SVG chart plus its table alternative, one row per journey week.
    funnel = page.locator("section", has=page.locator("#h-funnel"))
    assert await funnel.locator("svg[role=img]").count() == 1
    weeks = await funnel.locator("table tbody tr").count()
    assert weeks >= 6
    assert "Week 1" in await funnel.locator("table").inner_text()

    # Manager support: with 5 respondents every comparison is suppressed in this cohort.
    mgr = await page.locator("section", has=page.locator("#h-mgr")).inner_text()
    for f in ev.factors:
        assert f.name in mgr
    if any(f.suppressed for f in ev.factors):
        assert f"hidden: group < {ev.min_group}" in mgr

    barriers = await page.locator("section", has=page.locator("#h-bar")).inner_text()
    assert "no suitable situation came up" in barriers

    # Who is stuck: by the end of the demo every journey has completed (issue 13), so nobody is
    # listed (tests/integration/test_dashboard_stuck.py shows the rows while journeys run).
    stuck = page.locator("section", has=page.locator("#h-stuck"))
    assert await stuck.locator("table tbody tr").count() == 0
    assert "Nobody has been waiting" in await stuck.inner_text()
    body = await page.locator("body").inner_text()
    for p in PEOPLE:
        for secret_text in (*p.reflections, *p.situations):
            if secret_text:
                assert secret_text not in body, f"answer text leaked: {secret_text!r}"

    # The PPP opening: business goal, self-reported next to verified impact, value with its basis.
    from bot.devtools.demo_interviews import INTERVIEWS

    business = page.locator("section", has=page.locator("#h-ppp"))
    btext = await business.inner_text()
    assert btext.index("Business goal") < body.index("Impact rate")  # the page opens with the PPP
    rows = business.locator("table tbody tr")
    assert await rows.count() == 2
    verified = sum(i.classification == "success" for i in INTERVIEWS)
    assert of in await rows.nth(0).inner_text()
    assert f"{verified} of {ev.impact.total}" in await rows.nth(1).inner_text()
    assert f"Verified in {len(INTERVIEWS)} interviews" in await rows.nth(1).inner_text()
    assert "Estimated value: £2,100 a month. Basis:" in btext and "avoided escalations a month × £350" in btext
    assert "Return: 5.6 : 1 over a year" in btext
    assert "What was lost: not shown" in btext  # hidden with the support comparison
    assert "What was lost:" not in await page.locator("section", has=page.locator("#h-mgr")).inner_text()
    short = await page.locator("section", has=page.locator("#h-sum")).inner_text()
    assert "Follow-up survey: impact" in short and "at the first survey" in short

    assert await page.evaluate(A11Y_PROBLEMS) == []
    await assert_no_serious_axe_findings(page)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # The cohort selector keeps the signature.
    nav = page.get_by_role("navigation", name="Cohorts").get_by_role("link", name=served.cohort)
    href = await nav.get_attribute("href") or ""
    assert "sig=" in href
    await nav.click()
    assert impact in await page.locator(".kpis").inner_text()

    # Phone width: readable without sideways scrolling of the page itself.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.reload()
    overflow = await page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390, f"page is {overflow}px wide at a 390px viewport"
    await page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    await page.close()


async def test_expired_forged_and_missing_links_are_refused(served: Any, browser: Browser) -> None:
    from bot.dashboard.links import link_query, make_link

    page = await browser.new_page(viewport={"width": 1024, "height": 700})

    url = make_link(served.service, "U-admin", ttl=timedelta(minutes=30))
    served.clock.advance(timedelta(minutes=31))
    resp = await page.goto(url)
    assert resp is not None and resp.status == 403
    assert "expired" in await page.locator("body").inner_text()
    assert await page.locator("#h-impact").count() == 0

    fresh = make_link(served.service, "U-admin")
    parts = urlsplit(fresh)
    q = dict(parse_qsl(parts.query))
    for forged in ({**q, "exp": str(int(q["exp"]) + 86400)},  # extended expiry
                   {**q, "sig": q["sig"][:-1] + ("0" if q["sig"][-1] != "0" else "1")},  # altered signature
                   link_query(b"someone-elses-secret", "U-admin", int(q["exp"])),  # wrong secret
                   {**q, "scope": "demo-cohort", "cohort": "demo-cohort"}):  # widened/changed scope
        resp = await page.goto(f"{served.base}/dashboard?{urlencode(forged)}")
        assert resp is not None and resp.status == 403, forged
        text = await page.locator("body").inner_text()
        assert "not valid" in text and "Access denied" in text
        assert "Impact rate" not in text

    resp = await page.goto(f"{served.base}/dashboard")
    assert resp is not None and resp.status == 403
    assert "no valid signature" in await page.locator("body").inner_text()
    assert (await page.title()).strip() and await page.locator("h1").count() == 1

    # The fresh link still works: refusals changed nothing.
    resp = await page.goto(fresh)
    assert resp is not None and resp.status == 200
    await page.close()
