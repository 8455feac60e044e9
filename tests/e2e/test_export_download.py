"""`export <user>` hands the admin the complete JSON as a file, never a truncated inline copy.

Over real HTTP (the app `bot.app.wiring.build_app` serves under `hplj serve`, on a local port): the signed
link downloads everything, built from the database at click time; expired, tampered, other-person
and dashboard links are refused and reveal nothing; after `forget` the link gives nothing. Without
a public URL the chat reply attaches the JSON only when the platform shows it whole and otherwise
says so; `hplj export USER --out FILE` writes the complete file; `hplj chat` saves it to a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update
from typer.testing import CliRunner

from adapters.memory import RecordingChat
from adapters.slack.render import fits as slack_fits
from adapters.teams.render import fits as teams_fits
from bot.admin.commands import export_json, export_person
from bot.app.service import BotService
from bot.app.settings import Settings
from bot.app.wiring import build_app
from bot.dashboard.links import make_link
from bot.services.clock import SimulatedClock
from journeys.messages import Message
from store.db import Database
from store.models import AuditRow, PersonRow, PromptRow
from tests.e2e.test_serve import _free_port
from tests.worlds import deployment_settings, service_on

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 3, 29, 8, tzinfo=UTC)  # a Monday
START = date(2027, 4, 12)
BIG = 40_000  # characters of answers: well over Teams' 15,000-character inline limit
MARK = "KESTREL-9930"  # distinctive text inside the big answer
LABEL = "Download the export (JSON, expires in 1 h)"
PEOPLE = (("ana", "Ana Silva"), ("bo", "Bo Berg"), ("ben", "Ben Okafor"))


def _settings(public_url: str = "") -> Settings:
    return deployment_settings(dashboard_secret="export-test-secret", public_url=public_url)


async def _populate(svc: BotService, chat: RecordingChat, platform: str = "console") -> dict[str, str]:
    """People, an enrollment, and answers for Ana far bigger than any chat platform shows inline."""
    ids = {}
    for uid, name in PEOPLE:
        chat.add_user(uid, name, email=f"{uid}@example.com", tz="Europe/London")
        ids[uid] = (await svc.ensure_person(platform, uid, name=name, tz="Europe/London",
                                            email=f"{uid}@example.com")).id
    await svc.enroll("active-listening", [ids["ana"], ids["bo"]], ids["ben"], START, cohort="big")
    async with svc.db.write() as s:
        prompt_ids = (await s.execute(select(PromptRow.id).where(PromptRow.recipient_id == ids["ana"])
                                      .order_by(PromptRow.id))).scalars().all()
        assert len(prompt_ids) >= 4
        chunk = BIG // 4
        for n, pid in enumerate(prompt_ids[:4]):
            text = f"{MARK}-{n} " + "".join(chr(0x61 + (i * 7 + n) % 26) for i in range(chunk))
            await s.execute(update(PromptRow).where(PromptRow.id == pid).values(answers={"reflection": text}))
    return ids


class Served:
    def __init__(self, svc: BotService, clock: SimulatedClock, server: TestServer, http: aiohttp.ClientSession,
                 ids: dict[str, str], path: Path) -> None:
        self.svc, self.clock, self.server, self.http, self.ids, self.path = svc, clock, server, http, ids, path
        self.n = 0

    async def cmd(self, text: str, user: str = "admin") -> Message:
        self.n += 1
        result = await self.svc.handle_command("console", user, text, f"k{self.n}")
        assert len(result.replies) == 1
        return result.replies[0]

    async def get(self, url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        async with self.http.request(method, url, allow_redirects=False) as r:
            return r.status, dict(r.headers), await r.read()

    async def audits(self, action: str) -> list[AuditRow]:
        async with self.svc.db.read() as s:
            return list((await s.execute(select(AuditRow).where(AuditRow.action == action))).scalars().all())


@pytest.fixture
async def served(tmp_path, library):
    path = tmp_path / "bot.db"
    db = Database(f"sqlite:///{path}")
    await db.create_all()
    chat = RecordingChat(platform="console")
    clock = SimulatedClock(NOW)
    port = _free_port()
    settings = _settings(f"http://127.0.0.1:{port}")  # the address the links point at
    svc = await service_on(db, library, {"console": chat}, clock, admins={"admin"}, settings=settings)
    chat.add_user("admin", "Lee Admin", email="lee@example.com")
    await svc.ensure_person("console", "admin", name="Lee Admin", email="lee@example.com")
    ids = await _populate(svc, chat)
    server = TestServer(build_app(svc, settings), host="127.0.0.1", port=port)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield Served(svc, clock, server, http, ids, path)
    await server.close()
    await svc.settle()
    await db.dispose()


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    q = {**_query(url), **changes}
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(q)}"


def _reveals(body: bytes, ids: dict[str, str]) -> list[str]:
    text = body.decode("utf-8", "replace")
    needles = ["Ana", "ana@example.com", ids["ana"], MARK, "Bo Berg", ids["bo"], "reflection", "{"]
    return [n for n in needles if n in text]


# --------------------------------------------------------------------------- the link


async def test_link_downloads_the_complete_json(served: Served) -> None:
    m = await served.cmd("export @ana")
    assert not m.attachment_text and not m.attachment_name  # nothing inline to truncate
    assert [link.label for link in m.links] == [LABEL]
    url = m.links[0].url
    assert url.startswith(f"{served.server.make_url('/dashboard/export')}?")
    # the URL holds ids and a signature, no personal data
    assert "Ana" not in url and "example.com" not in url and MARK not in url
    assert "expires in 1 h" in m.links[0].label and "personal data" in m.text

    status, headers, body = await served.get(url)
    assert status == 200, body[:300]
    pid = served.ids["ana"]
    assert headers["Content-Disposition"] == f'attachment; filename="export-{pid}.json"'
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"].startswith("application/json")
    assert len(body) > BIG > 15_000
    data = json.loads(body)
    assert data["person"]["id"] == pid and data["person"]["email"] == "ana@example.com"
    answers = [p["answers"]["reflection"] for p in data["prompts"] if "reflection" in (p["answers"] or {})]
    assert len(answers) == 4 and sum(len(a) for a in answers) >= BIG  # every character, nothing cut
    assert all(a.startswith(f"{MARK}-") for a in answers)
    # exactly what the one export implementation builds from the database
    # exactly what the one export implementation builds from the database (which now also lists
    # the download in the person's audit trail)
    again = await export_person(served.svc.uow, pid, served.clock.now())
    assert again is not None and [a["action"] for a in again["audit"]][-1] == "export_download"
    again["audit"] = again["audit"][:-1]
    assert body.decode() == export_json(again)

    # the download is audited, by id only
    downloads = await served.audits("export_download")
    issued = await served.audits("export_link")
    assert len(downloads) == 1 and len(issued) == 1
    assert downloads[0].target_id == pid and downloads[0].detail == {}
    assert downloads[0].actor_id == issued[0].actor_id and downloads[0].actor_id != pid

    # built at click time: a later change shows up on the next click of the same link
    served.clock.advance(timedelta(minutes=30))
    async with served.svc.db.write() as s:
        await s.execute(update(PersonRow).where(PersonRow.id == pid).values(name="Ana Silva-Changed"))
    status, _, body = await served.get(url)
    assert status == 200 and json.loads(body)["person"]["name"] == "Ana Silva-Changed"


async def test_expired_link_is_refused_and_reveals_nothing(served: Served) -> None:
    url = (await served.cmd("export @ana")).links[0].url
    served.clock.advance(timedelta(minutes=59))
    assert (await served.get(url))[0] == 200
    served.clock.advance(timedelta(minutes=1))
    status, headers, body = await served.get(url)
    assert status == 403 and "expired" in body.decode()
    assert headers["Cache-Control"] == "no-store" and "Content-Disposition" not in headers
    assert _reveals(body, served.ids) == []


@pytest.mark.parametrize("change", ["other-person", "exp", "sig", "actor", "missing-sig", "garbage-exp"])
async def test_tampered_or_other_person_link_is_refused(served: Served, change: str) -> None:
    url = (await served.cmd("export @ana")).links[0].url
    q = _query(url)
    if change == "other-person":
        bad = _with(url, person=served.ids["bo"])
    elif change == "exp":
        bad = _with(url, exp=str(int(q["exp"]) + 86_400))
    elif change == "sig":
        bad = _with(url, sig=q["sig"][:-1] + ("0" if q["sig"][-1] != "0" else "1"))
    elif change == "actor":
        bad = _with(url, actor=served.ids["ana"])
    elif change == "garbage-exp":
        bad = _with(url, exp="soon")
    else:
        parts = urlsplit(url)
        bad = f"{parts.scheme}://{parts.netloc}{parts.path}?" + urlencode({k: v for k, v in q.items() if k != "sig"})
    status, headers, body = await served.get(bad)
    assert status == 403, body
    assert "Content-Disposition" not in headers and _reveals(body, served.ids) == []
    assert await served.audits("export_download") == []


async def test_links_are_single_purpose(served: Served) -> None:
    export_url = (await served.cmd("export @ana")).links[0].url
    dash_url = make_link(served.svc, _query(export_url)["actor"])
    # a dashboard link's signature opens no export, and an export link opens no dashboard
    dq = _query(dash_url)
    status, _, body = await served.get(_with(export_url, sig=dq["sig"], exp=dq["exp"]))
    assert status == 403 and _reveals(body, served.ids) == []
    status, _, body = await served.get(export_url.replace("/dashboard/export?", "/dashboard?"))
    assert status == 403 and b"Ana" not in body
    # a HEAD probe (link checkers) is no download
    assert (await served.get(export_url, "HEAD"))[0] == 405
    assert await served.audits("export_download") == []


async def test_link_of_a_revoked_admin_is_refused(served: Served) -> None:
    assert "now a journey admin" in (await served.cmd("admins add @ben")).text
    url = (await served.cmd("export @ana", user="ben")).links[0].url
    assert (await served.get(url))[0] == 200
    assert "no longer a journey admin" in (await served.cmd("admins remove @ben")).text
    status, _, body = await served.get(url)
    assert status == 403 and _reveals(body, served.ids) == []


async def test_link_after_forget_gives_nothing(served: Served) -> None:
    url = (await served.cmd("export @ana")).links[0].url
    assert "Forgot" in (await served.cmd("forget @ana")).text
    status, headers, body = await served.get(url)
    assert status == 410 and "Content-Disposition" not in headers
    assert _reveals(body, served.ids) == []
    assert await served.audits("export_download") == []
    # and the export command no longer knows her either
    assert "unknown user" in (await served.cmd("export @ana")).text


# --------------------------------------------------------------------------- no public URL: inline, never cut


FITS = {"slack": slack_fits, "teams": teams_fits}


@pytest.mark.parametrize("platform", ["slack", "teams"])
async def test_without_a_public_url_a_big_export_is_not_truncated(tmp_path, library, platform: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    await db.create_all()
    chat = RecordingChat(platform=platform, fits=FITS[platform])  # that platform's port says what fits
    svc = await service_on(db, library, {platform: chat}, SimulatedClock(NOW), admins={"admin"})
    chat.add_user("admin", "Lee Admin")
    await svc.ensure_person(platform, "admin", name="Lee Admin")
    ids = await _populate(svc, chat, platform)
    try:
        m = (await svc.handle_command(platform, "admin", "export <user:ana>", "k1")).replies[0]
        assert not m.attachment_text and not m.links
        assert "too large to show here in full" in m.text and "Nothing was sent" in m.text
        assert f"hplj export {ids['ana']} --out export-{ids['ana']}.json" in m.text
        # a small export still comes inline, whole
        m = (await svc.handle_command(platform, "admin", "export <user:admin>", "k2")).replies[0]
        data = json.loads(m.attachment_text)
        admin_id = data["person"]["id"]
        assert data["person"]["platform_user_id"] == "admin" and m.attachment_name == f"export-{admin_id}.json"
        assert chat.fits(m)
    finally:
        await svc.settle()
        await db.dispose()


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_db(tmp_path, library) -> SimpleNamespace:
    path = tmp_path / "cli.db"

    async def make() -> dict[str, str]:
        db = Database(f"sqlite:///{path}")
        await db.create_all()
        chat = RecordingChat(platform="slack")
        svc = await service_on(db, library, {"slack": chat}, SimulatedClock(NOW))
        try:
            return await _populate(svc, chat, "slack")
        finally:
            await svc.settle()
            await db.dispose()

    ids = asyncio.run(make())
    return SimpleNamespace(path=path, ids=ids, env={"DATABASE_URL": f"sqlite:///{path}"})


def _dump(path: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: sorted(map(repr, con.execute(f'select * from "{t}"'))) for t in tables}  # type: ignore[misc]
    finally:
        con.close()


def test_cli_export_writes_the_complete_file(cli_db: SimpleNamespace, tmp_path: Path) -> None:
    out = tmp_path / "ana.json"
    r = subprocess.run([sys.executable, "-m", "bot.app.cli", "export", "ANA@example.com", "--out", str(out)],
                       check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **cli_db.env})
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"wrote {out}" in r.stdout and cli_db.ids["ana"] in r.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["id"] == cli_db.ids["ana"]
    answers = [p["answers"]["reflection"] for p in data["prompts"] if "reflection" in (p["answers"] or {})]
    assert len(answers) == 4 and sum(len(a) for a in answers) >= BIG
    assert out.stat().st_mode & 0o077 == 0  # personal data: owner only
    con = sqlite3.connect(cli_db.path)
    try:
        rows = con.execute("select actor_id, action, target_id, detail from audit where action='export'").fetchall()
    finally:
        con.close()
    assert rows == [(None, "export", cli_db.ids["ana"], '{"via": "cli"}')]


def test_cli_export_by_platform_id_or_person_id(cli_db: SimpleNamespace, tmp_path: Path) -> None:
    from bot.app.cli import app

    runner = CliRunner()
    for n, who in enumerate(("bo", "<@bo>", cli_db.ids["bo"])):
        out = tmp_path / f"bo-{n}.json"
        r = runner.invoke(app, ["export", who, "--out", str(out)], env=cli_db.env)
        assert r.exit_code == 0, r.output
        assert json.loads(out.read_text())["person"]["id"] == cli_db.ids["bo"]


@pytest.mark.parametrize("args, hint, says", [
    (["nobody@example.com"], "USER", "nobody stored has the e-mail 'nobody@example.com'"),
    (["U-NOPE"], "USER", "nobody stored has the user id or person id 'U-NOPE'"),
    (["ana", "--out", "EXISTS"], "--out", "already exists"),
    (["ana", "--out", "no/such/dir/x.json"], "--out", "does not exist"),
])
def test_cli_export_errors_name_the_argument_and_change_nothing(cli_db: SimpleNamespace, tmp_path: Path,
                                                                args: list[str], hint: str, says: str) -> None:
    from bot.app.cli import app

    existing = tmp_path / "exists.json"
    existing.write_text("keep me")
    out = str(tmp_path / "x.json")
    if "--out" in args:
        i = args.index("--out") + 1
        args = [*args[:i], str(existing) if args[i] == "EXISTS" else str(tmp_path / args[i]), *args[i + 1:]]
    else:
        args = [*args, "--out", out]
    before = _dump(cli_db.path)
    r = CliRunner().invoke(app, ["export", *args], env=cli_db.env)
    assert r.exit_code == 2, r.output
    flat = " ".join(r.output.replace("│", " ").split())
    assert hint in flat and says in flat, r.output
    assert _dump(cli_db.path) == before
    assert existing.read_text() == "keep me" and not Path(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".hplj-export-")) == []


# --------------------------------------------------------------------------- hplj chat


async def test_chat_saves_the_export_to_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.devtools.chat import run_chat

    monkeypatch.chdir(tmp_path)  # `hplj chat` saves files the bot sends in the working directory
    lines: list[str] = []
    await run_chat("admin", tmp_path / "chat.db", lines=["journey export @ana", "journey export @ana"],
                   write=lines.append)
    files = sorted(tmp_path.glob("export-*.json"))
    assert len(files) == 2 and files[0].name != files[1].name  # never overwritten
    data = json.loads(files[0].read_text())
    assert data["person"]["name"] == "Ana Silva" and data["enrollments"]
    out = "\n".join(lines)
    for f in files:
        assert f"to {f}" in out
    assert '"exported_at"' not in out  # not dumped into the conversation
