"""What `hplj enroll --csv` and `hplj people sync --csv` share: which platform an import is for,
what a file with another delimiter is called, and the exit codes (0 all good, 1 some rows refused,
2 nothing done) so a script can tell the three apart for either command."""

from __future__ import annotations

import csv
from dataclasses import dataclass

from bot.app.settings import Settings

PLATFORMS = ("slack", "teams", "console")
LABEL = {"slack": "Slack", "teams": "Microsoft Teams", "console": "the console"}
_CREDENTIAL = {"slack": "SLACK_BOT_TOKEN", "teams": "MICROSOFT_APP_ID"}
_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars (|)"}

OK = 0  # every row done
SOME_REFUSED = 1  # the good rows done, the bad ones listed
NOTHING_DONE = 2  # nothing written (bad file, --all-or-nothing, platform out of reach)


class PlatformChoiceError(ValueError):
    """The platform asked for (or not asked for) cannot be used: one sentence naming the option."""


@dataclass(frozen=True)
class PlatformChoice:
    platform: str
    why: str  # said to the admin: "given with --platform", "the only one configured", ...

    def line(self) -> str:
        return f"platform: {self.platform} ({self.why})"


def configured_platforms(settings: Settings) -> list[str]:
    """The chat platforms whose credentials are set (the console needs none)."""
    return [p for p, on in (("slack", bool(settings.slack_bot_token)),
                            ("teams", bool(settings.microsoft_app_id))) if on]


def choose_platform(settings: Settings, requested: str) -> PlatformChoice:
    """`--platform` when given (checked against the settings), else the one platform configured,
    else the console. With Slack and Teams both configured the admin must say which: enrolling a
    cohort on the wrong one is not undone by a second run (it answers "already enrolled")."""
    configured = configured_platforms(settings)
    wanted = requested.strip().lower()
    if wanted:
        if wanted not in PLATFORMS:
            raise PlatformChoiceError(f"--platform must be slack, teams or console, not {requested!r}.")
        if wanted != "console" and wanted not in configured:
            raise PlatformChoiceError(f"--platform {wanted}: {_CREDENTIAL[wanted]} is not set in this shell or "
                                      f".env, so {LABEL[wanted]} cannot be reached.")
        return PlatformChoice(wanted, "given with --platform")
    if len(configured) > 1:
        raise PlatformChoiceError("Slack and Teams are both configured: say where these people use the bot "
                                  "with --platform slack or --platform teams.")
    if configured:
        return PlatformChoice(configured[0], f"the only platform configured: {_CREDENTIAL[configured[0]]} is set")
    return PlatformChoice("console", "neither SLACK_BOT_TOKEN nor MICROSOFT_APP_ID is set; "
                                     "use --platform to choose")


def delimiter_problem(text: str, expected: tuple[str, ...]) -> str | None:
    """One sentence when the header is separated by something other than commas (a spreadsheet
    saved with semicolons, a tab-separated export), instead of "missing column(s)"."""
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if "," in first:
        return None
    for sep, name in _DELIMITERS.items():
        if sep not in first:
            continue
        header = [h.strip().lower() for h in next(csv.reader([first], delimiter=sep))]
        if any(c in header for c in expected):
            return (f"the columns are separated by {name}, not commas: save the file as comma-separated CSV "
                    "(in a spreadsheet: CSV UTF-8, comma delimited)")
    return None


def exit_code(done: int, refused: int) -> int:
    """0 when nothing was refused, 1 when some rows were done and some refused, 2 when nothing was."""
    if refused == 0:
        return OK
    return SOME_REFUSED if done else NOTHING_DONE
