"""The journey author's commands: `hplj preview` and `hplj audit` (registered in bot/app/cli.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from journeys.definition import Journey


def _start(value: str | None) -> date:
    # lazy: only this command needs it (the CLI starts fast)
    from bot.devtools.journey_audit import next_monday

    if value is None:
        return next_monday(datetime.now(UTC).date())
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2027-04-12", param_hint="--start") from None


def _journey(path: Path) -> Journey:
    # lazy: only this command needs it (the CLI starts fast)
    from journeys.loader import JourneyFileError, load_journey_file

    try:
        return load_journey_file(path)
    except JourneyFileError as exc:
        for e in exc.errors:
            sys.stderr.write(f"{e}\n")
        raise typer.Exit(2) from None
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror or exc}", param_hint="FILE") from None


def preview(
    file: Annotated[Path, typer.Argument(help="The journey file.")],
    as_: Annotated[str, typer.Option("--as", help="participant, manager, leader or facilitator.")] = "participant",
    start: Annotated[str | None, typer.Option(help="Start date (default: the Monday after next).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, slack (Block Kit) or teams (Adaptive Card).")] = "text",
) -> None:
    """The whole timeline of a journey as one role receives it, with each message's local time."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.devtools.journey_audit import preview_journey

    if as_ not in ("participant", "manager", "leader", "facilitator"):
        raise typer.BadParameter(f"participant|manager|leader|facilitator, not {as_!r}", param_hint="--as")
    if fmt not in ("text", "slack", "teams"):
        raise typer.BadParameter(f"expected text, slack or teams, got {fmt!r}", param_hint="--format")
    journey, first = _journey(file), _start(start)
    items = asyncio.run(preview_journey(journey, first, as_, fmt))
    if fmt == "text":
        sys.stdout.write(f"{journey.title}: what the {as_} receives, starting {first:%a %d %b %Y}\n\n")
        sys.stdout.write("\n\n".join(str(i) for i in items) + "\n")
    else:
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")


ROLES = ("participant", "manager", "leader", "facilitator", "interviewer")


def audit(
    files: Annotated[list[Path], typer.Argument(help="Journey files to audit.")],
    start: Annotated[str | None, typer.Option(help="Start date (default: the Monday after next).")] = None,
    show: Annotated[str | None, typer.Option(
        help="Also print what a role received, in each reader's time: participant, manager, leader, "
             "facilitator, interviewer or all.")] = None,
) -> None:
    """Run each journey for the audit's personas and check every message against the rules;
    print each breach (persona, message, rule) and exit 1 on any."""
    # lazy: only this command needs it (the CLI starts fast)
    from bot.devtools.journey_audit import audit_journey, received

    if show is not None and show not in (*ROLES, "all"):
        raise typer.BadParameter(f"{'|'.join(ROLES)}|all, not {show!r}", param_hint="--show")
    first = _start(start)
    total = 0
    for f in files:
        journey = _journey(f)
        transcript, breaches = asyncio.run(audit_journey(journey, first))
        if show is not None:
            sys.stdout.write(f"{f}: what the {show if show != 'all' else 'cast'} received\n\n"
                             + "\n\n".join(received(transcript, show)) + "\n\n")
        for b in breaches:
            sys.stdout.write(f"{f}: {b}\n")
        total += len(breaches)
        sys.stdout.write(f"{f}: {len(transcript.sent)} messages to {len(transcript.names)} people, "
                         f"{len(breaches)} breach(es)\n")
    if total:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(preview)
    app.command()(audit)
