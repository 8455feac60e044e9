"""The `hplj` command line (README.md, "Commands"). Thin: each verb wires settings, store and service."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from bot.app.cli_author import register as register_author_commands
from bot.app.settings import Settings
from bot.app.teams_cli import teams_app as _teams_app
from journeys.definition import Journey

app = typer.Typer(add_completion=True, no_args_is_help=True,
                  help="hplj-bot: High Performance Learning Journeys in Slack and Microsoft Teams.")
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")
people_app = typer.Typer(help="The people directory: managers, holiday regions, working weeks.")
app.add_typer(people_app, name="people")
app.add_typer(_teams_app, name="teams")
console = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        try:
            print(f"hplj {version('hplj-bot')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            print("hplj (not installed: no version)")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """hplj-bot: High Performance Learning Journeys in Slack and Microsoft Teams.

    Shell completion: `hplj --install-completion` (bash, zsh, fish or PowerShell)."""


def _logging(settings: Settings) -> None:
    """LOG_LEVEL and HPLJ_LOG_FORMAT for a long-running process; then, in production, refuse what
    cannot work (one sentence each, exit 2) and warn once about an SQLite file."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.logs import setup_logging
    from bot.app.startup import production_problems, secrets, sqlite_warning

    problems = production_problems(settings)
    for problem in problems:
        sys.stderr.write(f"hplj: {problem}\n")
    if problems:
        raise typer.Exit(2)
    setup_logging(settings.log_level, settings.log_format, secrets(settings))
    warning = sqlite_warning(settings)
    if warning:
        logging.getLogger("hplj").warning(warning)


def _settings() -> Settings:
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"hplj: {exc}\n")
        raise typer.Exit(2) from None


def _library(settings: Settings) -> dict[str, Journey]:
    # lazy: only this command needs it (the CLI starts fast)
    from journeys.loader import JourneyFileError, default_library_path, load_library

    folder = Path(settings.journeys_dir) if settings.journeys_dir else default_library_path()
    try:
        return load_library(folder)
    except JourneyFileError as exc:
        err.print(f"[red]Journey files in {folder} have errors:[/red]")
        sys.stderr.write(str(exc) + "\n")
        raise typer.Exit(2) from None


def _chosen(journey: Path | None) -> tuple[dict[str, Journey], str]:
    """`--journey FILE`, else HPLJ_JOURNEYS, else the bundled journeys (bot/devtools/journey_choice.py)."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.devtools.journey_choice import chosen_library
    from journeys.loader import JourneyFileError

    try:
        return chosen_library(journey, _settings().journeys_dir if journey is None else None)
    except (JourneyFileError, OSError) as exc:
        sys.stderr.write(f"hplj: {exc or 'no journey files found'}\n")
        raise typer.Exit(2) from None


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time, e.g. 2026-12-01T09:30:00Z",
                                 param_hint="--at") from None
    if at.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no time zone; add Z or an offset like +01:00", param_hint="--at")
    return at.astimezone(UTC)


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Journey YAML files to check.")]) -> None:
    """Check journey files; print every error with file:line:column."""
    # lazy: only this command needs it (the CLI starts fast)
    from journeys.loader import JourneyFileError, load_journey_file

    bad = 0
    for f in files:
        try:
            j = load_journey_file(f)
        except JourneyFileError as exc:
            bad += 1
            for e in exc.errors:
                print(str(e))
        except OSError as exc:
            bad += 1
            print(f"{f}: cannot read: {exc.strerror or exc}")
        else:
            print(f"{f}: OK — {j.id} v{j.version}, {len(j.steps)} steps")
    if bad:
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of journey files (for editor autocompletion).

    Its `$id` is where `hplj serve` answers it: HPLJ_PUBLIC_URL + /schema/journey.json."""
    # lazy: only this command needs it (the CLI starts fast)
    from journeys.schema import SCHEMA_PATH, journey_json_schema

    url = _settings().public_url.rstrip("/") + SCHEMA_PATH
    sys.stdout.write(json.dumps(journey_json_schema(url), indent=2) + "\n")


@app.command()
def demo(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final report.")] = False,
    db: Annotated[Path | None, typer.Option(help="Keep the demo database in this SQLite file.")] = None,
    journey: Annotated[Path | None, typer.Option(help="Run this journey file (default: HPLJ_JOURNEYS).")] = None,
) -> None:
    """Run the sample journey for a simulated cohort and print the conversation and the report."""
    # lazy: only this command needs it (the CLI starts fast)
    from rich.progress import BarColumn, Progress, TextColumn

    from bot.devtools.demo import run_demo

    with Progress(TextColumn("Simulating the journey"), BarColumn(), TextColumn("{task.description}"),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=1.0)

        def progress(frac: float, label: str) -> None:
            bar.update(task, completed=min(frac, 1.0), description=label)

        def write(s: str) -> None:
            if bar.live.is_started and err.is_terminal:
                bar.console.print(s, markup=False, highlight=False)
            else:
                sys.stdout.write(s + "\n")

        if db is not None and db.exists():
            db.unlink()
        library, journey_id = _chosen(journey)
        summary = asyncio.run(run_demo(write=write, db_path=db, quiet=quiet, progress=progress,
                                       library=library, journey_id=journey_id))
    sys.stdout.write("\n" + "=" * 30 + " Report " + "=" * 30 + "\n")
    for line in summary.report:
        sys.stdout.write(line + "\n")
    sys.stdout.write("\n" + "=" * 26 + " How it ended " + "=" * 26 + "\n")
    for line in summary.completion:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


@app.command()
def tick(at: Annotated[str | None, typer.Option(help="Pretend it is this time (ISO-8601 with zone).")] = None) -> None:
    """One full scheduler pass (claim due work, deliver the outbox), then exit.

    Prints one line: what was due, how many messages were delivered and, when some could not be,
    why; exits 1 when there was something to deliver and it could not deliver it."""
    now = _parse_at(at)
    settings = _settings()
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.wiring import build_service

    async def run() -> str | None:
        service = await build_service(settings, _library(settings))
        try:
            fired, delivered = await service.tick(now)
            waiting = 0
            if delivered.refused:
                async with service.uow.read() as uow:
                    waiting = await uow.outbox.due_count(now)
        finally:
            await service.dispatcher.release()
            await service.db.dispose()
        why = None
        if delivered.refused and waiting:
            why = f"{waiting} due message(s) not delivered: {delivered.refused}"
        elif (delivered.retried or delivered.failed) and not delivered.sent:
            why = f"nothing delivered: {delivered.last_error or 'the platform refused'}"
        held = f", held {delivered.held} for the recipients' working hours" if delivered.held else ""
        print(f"tick at {now.isoformat()}: {fired.fired} due prompts, {fired.queued} queued, "
              f"{fired.digests} digests; delivered {delivered.sent}, failed {delivered.failed}, "
              f"retrying {delivered.retried}, expired {delivered.expired}{held}" + (f" — {why}" if why else ""))
        return why

    if asyncio.run(run()) is not None:
        raise typer.Exit(1)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT or 3978).")] = None,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Web only; run `hplj worker` apart.")] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",
) -> None:
    """Web process: /slack/events, /api/messages, /healthz, /dashboard (and the scheduler)."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.public_pages import page_problem
    from bot.app.wiring import run_server, serve_problem

    settings = _settings()
    problem = serve_problem(settings) or page_problem(settings.privacy_text, settings.terms_text)
    if problem is not None:
        sys.stderr.write(f"hplj: {problem}\n")
        raise typer.Exit(2)
    _logging(settings)
    asyncio.run(run_server(settings, _library(settings), port=port or settings.port, host=host,
                           scheduler=not no_scheduler))


@app.command()
def worker() -> None:
    """Scheduler and delivery only (the Procfile's `worker`)."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.wiring import run_worker

    settings = _settings()
    _logging(settings)
    asyncio.run(run_worker(settings, _library(settings)))


@app.command()
def chat(
    as_: Annotated[str, typer.Option("--as", help="Who you are: a participant, a manager or an admin.")] = "ana",
    db: Annotated[Path | None, typer.Option(help="SQLite file for the chat session.")] = None,
    journey: Annotated[Path | None, typer.Option(help="Run this journey file (default: HPLJ_JOURNEYS).")] = None,
) -> None:
    """Talk to the bot in the terminal, with time travel (:advance 2d, :as ben, :help)."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.devtools.chat import run_chat

    library, journey_id = _chosen(journey)
    asyncio.run(run_chat(as_, db, library=library, journey_id=journey_id))


@app.command()
def enroll(
    csv_file: Annotated[Path, typer.Option("--csv", help="HR export: email, manager_email, journey, start, "
                                           + escape("[timezone], [country], [subdivision], [cohort], "
                                                    "[manager_manager_email], [event:<id>]..."))],
    all_or_nothing: Annotated[bool, typer.Option("--all-or-nothing", help="Import nothing if any row is bad "
                                                 "or the platform cannot be reached.")] = False,
    platform: Annotated[str, typer.Option(help="Where these people use the bot: slack, teams or console "
                                          "(required when both Slack and Teams are configured).")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file and say who would be enrolled "
                                          "where; write nothing.")] = False,
) -> None:
    """Enroll a cohort from a CSV file; every bad row is reported with its line number.

    Exit status: 0 every row enrolled (or already), 1 some rows refused, 2 nothing done."""
    # lazy: only this command needs it (the CLI starts fast)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.app.wiring import build_service
    from bot.services.csv_import import import_rows, parse_csv
    from bot.services.import_policy import (
        LABEL,
        NOTHING_DONE,
        PlatformChoiceError,
        choose_platform,
        exit_code,
    )
    from ports.chat import DeliveryError

    settings = _settings()
    library = _library(settings)
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {csv_file}: {exc}", param_hint="--csv") from None
    try:
        choice = choose_platform(settings, platform)
    except PlatformChoiceError as exc:
        sys.stderr.write(f"hplj: {exc}\n")
        raise typer.Exit(NOTHING_DONE) from None
    print(choice.line())
    report = parse_csv(text, library, datetime.now(UTC).date())
    for line, reason in report.errors:
        print(f"{csv_file}:{line}: {reason}")
    if report.errors and (all_or_nothing or not report.valid):
        print(f"nothing imported: {len(report.errors)} bad row(s) of {report.rows}" if report.rows
              else "nothing imported: the file's first line must be fixed first")
        raise typer.Exit(NOTHING_DONE)
    if dry_run:
        for r in report.valid:
            print(f"would enroll {r.email} in {r.journey} from {r.start.isoformat()} with manager "
                  f"{r.manager_email}" + (f" (cohort {r.cohort})" if r.cohort else ""))
        cohorts = sorted({r.cohort or f"{r.journey}-{r.start.isoformat()}" for r in report.valid})
        print(f"dry run, nothing written: would enroll {len(report.valid)} on {choice.platform}, skip "
              f"{len(report.errors)} bad row(s); cohorts: {', '.join(cohorts) or 'none'}")
        raise typer.Exit(exit_code(len(report.valid), len(report.errors)))

    async def run() -> None:
        service = await build_service(settings, library, scheduler=False)
        try:
            with Progress(TextColumn("Enrolling"), BarColumn(), MofNCompleteColumn(), console=err,
                          disable=not err.is_terminal) as bar:
                task = bar.add_task("", total=len(report.valid))
                await import_rows(service, report, choice.platform, all_or_nothing=all_or_nothing,
                                  progress=lambda n: bar.update(task, completed=n))
        finally:
            await service.dispatcher.release()
            await service.db.dispose()

    before = len(report.errors)
    try:
        asyncio.run(run())
    except DeliveryError as exc:  # after the people were looked up: the directory or the enrolment itself
        report.unreachable = f"{LABEL[choice.platform]} could not be reached ({exc.reason})"
    for line, reason in report.errors[before:]:
        print(f"{csv_file}:{line}: {reason}" if line else f"{csv_file}: {reason}")
    done = report.enrolled + report.already + report.opted_out
    if report.unreachable:
        print(f"hplj: {report.unreachable}; "
              + (f"{report.enrolled} enrolled, the rows listed above were not." if report.enrolled
                 else "nothing was enrolled."))
    if report.unreachable and not report.imported:
        print(f"nothing imported: {choice.platform} could not be reached")
        raise typer.Exit(NOTHING_DONE)
    print(f"enrolled {report.enrolled}, already enrolled {report.already}, opted out {report.opted_out}, "
          f"skipped {len(report.errors)} bad row(s); cohorts: {', '.join(sorted(report.cohorts)) or 'none'}; "
          f"platform: {choice.platform}" + (f"; facilitators named: {report.facilitators}" if report.facilitators
                                            else ""))
    raise typer.Exit(exit_code(done, len(report.errors)))


@people_app.command("sync")
def people_sync(
    csv_file: Annotated[Path, typer.Option("--csv", help="HR export: email, " + escape(
        "[manager_email], [name], [country], [subdivision], [timezone], [working_days], [working_hours], "
        "[locale]"))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would change; write nothing.")] = False,
) -> None:
    """Sync people from an HR export; every bad row is reported with its line number.

    Exit status: 0 every row synced, 1 some rows refused, 2 nothing done."""
    # lazy: only this command needs it (the CLI starts fast)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.services.people_sync import describe, parse_people_csv, sync_people
    from store.db import Database
    from store.migrate import upgrade_async
    from store.uow import UnitOfWorkFactory

    settings = _settings()
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {csv_file}: {exc}", param_hint="--csv") from None
    report = parse_people_csv(text)
    for line, reason in report.errors:
        print(f"{csv_file}:{line}: {reason}")

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await upgrade_async(db)
            with Progress(TextColumn("Syncing people"), BarColumn(), MofNCompleteColumn(), console=err,
                          disable=not err.is_terminal) as bar:
                task = bar.add_task("", total=len(report.entries))
                await sync_people(UnitOfWorkFactory(db), report, datetime.now(UTC), dry_run=dry_run,
                                  progress=lambda n: bar.update(task, completed=n))
        finally:
            await db.dispose()

    before = len(report.errors)
    if report.entries:
        asyncio.run(run())
    for line, reason in report.errors[before:]:  # rows refused against what is stored (the manager chain)
        print(f"{csv_file}:{line}: {reason}")
    verb = "would add" if dry_run else "added"
    for email in report.new:
        print(f"{verb} {describe('email', email)}")
    for email, diff in report.changed.items():
        what = "; ".join(f"{f} {describe(f, a)} -> {describe(f, b)}" for f, (a, b) in diff.items())
        print(f"{'would change' if dry_run else 'changed'} {describe('email', email)}: {what}")
    print(f"{'dry run, nothing written: ' if dry_run else ''}{len(report.new)} new, {len(report.changed)} changed, "
          f"{report.unchanged} unchanged, {len(report.errors)} bad row(s) of {report.rows}"
          + ("" if dry_run else f"; {report.people_updated} known people updated"))
    # lazy: only this command needs it (the CLI starts fast)
    from bot.services.import_policy import exit_code

    raise typer.Exit(exit_code(len(report.entries), len(report.errors)))


@app.command("export")
def export_cmd(
    user: Annotated[str, typer.Argument(metavar="USER", help="The person: an e-mail address, a platform user "
                                        "id (Slack U..., Teams id, console name) or a stored person id (p_...).")],
    out: Annotated[Path, typer.Option("--out", help="The JSON file to write (not overwritten unless --force).")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Write everything stored about one person as JSON to a file (the chat `export`, complete)."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.services.export import export_json, export_person, record_export
    from store.db import Database, DatabaseError, is_missing_sqlite_file
    from store.uow import UnitOfWork, UnitOfWorkFactory

    ref = user.strip()
    m = re.fullmatch(r"<@([^|>]+)(?:\|[^>]*)?>", ref)  # a pasted Slack mention
    ref = (m.group(1) if m else ref.lstrip("@")).strip()
    if not ref:
        raise typer.BadParameter("expected an e-mail address or a user id, got nothing", param_hint="USER")
    out = out.expanduser()
    if str(out) in ("", "-") or out.is_dir():
        raise typer.BadParameter(f"{out} is not a file name", param_hint="--out")
    if not out.parent.is_dir():
        raise typer.BadParameter(f"folder {out.parent} does not exist", param_hint="--out")
    if out.exists() and not force:
        raise typer.BadParameter(f"{out} already exists (add --force to overwrite it)", param_hint="--out")
    settings = _settings()
    missing = is_missing_sqlite_file(settings.database_url)
    if missing is not None:
        raise typer.BadParameter(f"no database file at {missing}", param_hint="DATABASE_URL")
    is_email = "@" in ref

    async def run() -> tuple[str, dict]:  # type: ignore[type-arg]
        db = Database(settings.database_url)
        try:
            try:
                async with UnitOfWork(db, read_only=True) as uow:
                    people = await (uow.people.by_email(ref) if is_email else uow.people.by_id_or_user_id(ref))
            except DatabaseError as exc:
                raise typer.BadParameter(f"cannot read the bot's database ({exc.__class__.__name__}); "
                                         "run `hplj db upgrade`?", param_hint="DATABASE_URL") from None
            if not people:
                what = "the e-mail" if is_email else "the user id or person id"
                raise typer.BadParameter(f"nobody stored has {what} {ref!r}", param_hint="USER")
            exact = [p for p in people if p.id == ref]
            if len(people) > 1 and not exact:
                which = ", ".join(f"{p.platform} {p.platform_user_id} (person id {p.id})" for p in people)
                raise typer.BadParameter(f"{ref!r} matches {len(people)} people: {which}; give the person id",
                                         param_hint="USER")
            pid = (exact or people)[0].id
            now = datetime.now(UTC)
            data = await export_person(UnitOfWorkFactory(db), pid, now)
            if data is None:
                raise typer.BadParameter(f"nobody stored has the id {ref!r} (forgotten just now?)", param_hint="USER")
            # write beside the target, audit, then move into place: on any error nothing is left behind
            fd, tmp = tempfile.mkstemp(prefix=".hplj-export-", suffix=".json", dir=out.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(export_json(data))
                await record_export(UnitOfWorkFactory(db), None, pid, now, via="cli")
                os.replace(tmp, out)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            return pid, data
        finally:
            await db.dispose()

    pid, data = asyncio.run(run())
    print(f"wrote {out} ({out.stat().st_size} bytes): everything stored about person {pid}, "
          f"{len(data['enrollments'])} enrollments, {len(data['prompts'])} prompts, {len(data['mtms'])} moments "
          f"that matter, {len(data['messages'])} messages. Handle it as personal data.")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (Alembic)."""
    # lazy: only this command needs it (the CLI starts fast)
    from store.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at {revision}", highlight=False)


register_author_commands(app)


def main() -> None:
    # lazy: only this command needs it (the CLI starts fast)
    from bot.app.startup import StartupError
    from store.dburl import DatabaseUrlError
    from store.migrate import MigrationError

    try:
        app()
    except (MigrationError, DatabaseUrlError, StartupError) as exc:
        # serve, worker, tick, enroll and `db upgrade` all migrate first; each says why in one sentence
        err.print(f"hplj: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
