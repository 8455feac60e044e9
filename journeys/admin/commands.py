"""The admin command grammar: one platform-neutral parser for Slack, Teams and the console.

Slack delivers `/journey <args>` as the slash command's text, Teams delivers a message to the bot
(`journey <args>`, or just `<args>` once the adapter has stripped the bot's @mention) and the
console passes what the admin typed. All three end up in `parse_command`, which returns one typed
dataclass per command or raises `CommandError` naming the offending argument and what was
expected. Nothing here touches a store, a platform or the clock: "today" is a parameter.

User references take three shapes, none of them a platform's own syntax:

- a platform user, `<user:ID>` / `<user:ID|label>` (see `user_token`): each adapter writes its
  mentions this way before parsing (Slack's `<@U123|ana>`, a Teams `<at>` entity); kind "mention";
- e-mail addresses, also pasted as `<ana@example.com>`: kind "email", stored lower-cased;
- user names `@ana` (the console's users): kind "name".

Two references are equal when kind and value are equal; the mention label is informational.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ClassVar, Literal, NamedTuple, TypeAlias

from journeys.text import mention

__all__ = [
    "AUDIT_DEFAULT_LIMIT",
    "AUDIT_MAX_LIMIT",
    "COMMANDS",
    "GRACE_DAYS",
    "HELP",
    "MAX_AHEAD_DAYS",
    "Admins",
    "Audit",
    "Command",
    "CommandError",
    "Dashboard",
    "Enroll",
    "Export",
    "Forget",
    "Help",
    "Interview",
    "Interviews",
    "Journeys",
    "Pause",
    "Report",
    "Resume",
    "Status",
    "Unenroll",
    "UserRef",
    "help_text",
    "parse_command",
    "user_token",
]

GRACE_DAYS = 7
"""A start (or event) date may lie at most this many days before `today`."""
MAX_AHEAD_DAYS = 366
"""... and at most this many days after it (a year, leap years included)."""
AUDIT_DEFAULT_LIMIT = 20
AUDIT_MAX_LIMIT = 1000


class CommandError(ValueError):
    """A command that can't be run as typed. `message` is meant for the admin, verbatim."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class UserRef:
    kind: Literal["mention", "email", "name", "auto"]
    value: str
    label: str | None = field(default=None, compare=False)

    @property
    def display(self) -> str:
        """How the reference is echoed back in messages."""
        if self.kind == "mention":
            return mention(self.value)
        if self.kind == "name":
            return f"@{self.value}"
        return self.value


# `manager auto`: each participant's own manager, from the directory (Graph, Slack fields, HR sync)
AUTO_MANAGER = UserRef("auto", "auto")


@dataclass(frozen=True)
class Help:
    command: ClassVar[str] = "help"
    topic: str | None = None


@dataclass(frozen=True)
class Journeys:
    command: ClassVar[str] = "journeys"


@dataclass(frozen=True)
class Enroll:
    command: ClassVar[str] = "enroll"
    journey_id: str
    users: tuple[UserRef, ...]
    manager: UserRef
    start: date | None = None
    events: dict[str, date] = field(default_factory=dict)
    cohort: str | None = None
    # the cohort's workshop facilitator (`facilitator <user>`); with no participants the command
    # only assigns them to an existing cohort (then `manager` is left out and `cohort` is needed)
    facilitator: UserRef | None = None


@dataclass(frozen=True)
class Status:
    """`target` is a user, a cohort name, or None (an overview)."""

    command: ClassVar[str] = "status"
    target: UserRef | str | None = None


@dataclass(frozen=True)
class Report:
    command: ClassVar[str] = "report"
    cohort: str
    csv: bool = False
    xapi: bool = False  # the cohort's xAPI statements as a JSON file (docs/exports.md)
    # "What to change": "show" the current text, "set" it to `text`, "reset" it to the draft
    recommendations: Literal["", "show", "set", "reset"] = ""
    text: str = ""


@dataclass(frozen=True)
class Pause:
    command: ClassVar[str] = "pause"
    user: UserRef


@dataclass(frozen=True)
class Resume:
    command: ClassVar[str] = "resume"
    user: UserRef


@dataclass(frozen=True)
class Unenroll:
    command: ClassVar[str] = "unenroll"
    user: UserRef
    journey_id: str | None = None


@dataclass(frozen=True)
class Forget:
    command: ClassVar[str] = "forget"
    user: UserRef


@dataclass(frozen=True)
class Export:
    command: ClassVar[str] = "export"
    user: UserRef


@dataclass(frozen=True)
class Dashboard:
    command: ClassVar[str] = "dashboard"


@dataclass(frozen=True)
class Admins:
    command: ClassVar[str] = "admins"
    action: Literal["list", "add", "remove"] = "list"
    user: UserRef | None = None


@dataclass(frozen=True)
class Audit:
    command: ClassVar[str] = "audit"
    limit: int = AUDIT_DEFAULT_LIMIT


@dataclass(frozen=True)
class Interviews:
    """Select, invite and list a cohort's Success Case interview candidates, with the guide."""

    command: ClassVar[str] = "interviews"
    cohort: str
    swap: tuple[UserRef, UserRef] | None = None  # (out, in): the admin replaces a candidate


SCM_VERDICTS = ("success", "applied_no_result", "tried_no_success", "not_applied")


@dataclass(frozen=True)
class Interview:
    """Record a candidate's consent, or what their interview verified."""

    command: ClassVar[str] = "interview"
    user: UserRef
    action: Literal["agreed", "declined", "verified", "notes"]
    classification: str | None = None
    outcome: str | None = None
    units: float | None = None


Command: TypeAlias = (
    Help
    | Journeys
    | Enroll
    | Status
    | Report
    | Pause
    | Resume
    | Unenroll
    | Forget
    | Export
    | Dashboard
    | Admins
    | Audit
    | Interviews
    | Interview
)

# --------------------------------------------------------------------------- help


class _Spec(NamedTuple):
    usage: str
    summary: str
    details: str
    example: str


_SPECS: dict[str, _Spec] = {
    "help": _Spec(
        usage="help [command]",
        summary="list the commands, or explain one",
        details="Without a command, lists every command; with one, shows its usage and an example.",
        example="help enroll",
    ),
    "journeys": _Spec(
        usage="journeys",
        summary="list the journeys: id, title, version, active enrollments",
        details="Shows every journey that can be enrolled in.",
        example="journeys",
    ),
    "enroll": _Spec(
        usage=(
            "enroll <journey-id> <user>... manager <user>|auto [start YYYY-MM-DD] "
            "[event <name> YYYY-MM-DD]... [cohort <name>] [facilitator <user>] | "
            "enroll <journey-id> facilitator <user> cohort <name>"
        ),
        summary="enroll people in a journey with their manager",
        details=(
            "Enrolls one or more participants (mentions, e-mail addresses or @names, separated by "
            "spaces or commas) with one manager, who can't also be a participant, or with `manager auto`: "
            "each one's own manager from the directory (Microsoft Graph, Slack profile fields or "
            "`hplj people sync`). `start` "
            f"defaults to the first working day a week from today; it may be up to {GRACE_DAYS} days in the past or a year ahead. "
            "`event` sets a date the journey's steps are anchored to (repeat it for several events). `cohort` "
            "names the group for `status` and `report` (default: journey and start date). "
            "`facilitator` makes someone the cohort's workshop facilitator (one per cohort; naming another "
            "replaces them): before the workshop they get an anonymous brief of the cohort (counts and "
            "themes, never names or what people wrote), after it the cohort's progress. Without participants "
            "it assigns the facilitator of an existing cohort. "
            "Enrolling someone twice changes nothing."
        ),
        example=(
            "enroll active-listening @ana @bo manager @ben start 2026-03-02 event workshop "
            "2026-03-10 cohort spring-leads"
        ),
    ),
    "status": _Spec(
        usage="status [<user>|<cohort>]",
        summary="where a person or a cohort is, and who is stuck",
        details=(
            "For a person: current step, what's next and when, open prompts, reminders sent and "
            "failed deliveries. For a cohort: where everyone is and who is stuck. Without an "
            "argument: an overview of all cohorts."
        ),
        example="status @ana",
    ),
    "report": _Spec(
        usage="report <cohort> [csv|xapi|recommendations [set <text>|reset]]",
        summary="the evaluation report of a cohort",
        details=("Aggregated results of a cohort; `csv` sends them as a CSV file, `xapi` the cohort's "
                 "learning records as xAPI statements (JSON). Schemas: docs/exports.md. "
                 "`recommendations` shows the report's \"What to change\" section (drafted from the "
                 "evidence, or your edited text); `recommendations set <text>` replaces it (one line per "
                 "recommendation), `recommendations reset` goes back to the draft."),
        example="report spring-leads csv",
    ),
    "pause": _Spec(
        usage="pause <user>",
        summary="pause someone's journey (e.g. on leave)",
        details="No prompts or reminders are sent until `resume`.",
        example="pause @ana",
    ),
    "resume": _Spec(
        usage="resume <user>",
        summary="resume a paused journey",
        details="Picks the journey up where it was paused.",
        example="resume @ana",
    ),
    "unenroll": _Spec(
        usage="unenroll <user> [<journey-id>]",
        summary="end someone's enrollment",
        details=(
            "Ends the person's enrollment in the journey (in every journey when none is given). "
            "Their data stays until `forget`."
        ),
        example="unenroll @ana active-listening",
    ),
    "forget": _Spec(
        usage="forget <user>",
        summary="erase everything stored about a person",
        details=(
            "Removes names, e-mails, platform ids, answers, reflections and logs; aggregate counts "
            "stay as anonymous numbers. This can't be undone."
        ),
        example="forget ana@example.com",
    ),
    "export": _Spec(
        usage="export <user>",
        summary="everything stored about a person, as JSON",
        details="Sends you a JSON file with everything stored about the person.",
        example="export @ana",
    ),
    "dashboard": _Spec(
        usage="dashboard",
        summary="a signed, expiring link to the read-only dashboard",
        details="The link is personal and expires; don't forward it.",
        example="dashboard",
    ),
    "admins": _Spec(
        usage="admins [list] | admins add <user> | admins remove <user>",
        summary="list, grant or revoke admin rights",
        details="Bootstrap admins come from HPLJ_ADMINS; admins can grant and revoke others.",
        example="admins add @ben",
    ),
    "audit": _Spec(
        usage="audit [N]",
        summary="the last N entries of the audit log",
        details=(
            f"Who changed what, without personal content. N defaults to {AUDIT_DEFAULT_LIMIT} "
            f"(at most {AUDIT_MAX_LIMIT})."
        ),
        example="audit 50",
    ),
    "interviews": _Spec(
        usage="interviews <cohort> [swap <user> <user>]",
        summary="Success Case interviews: ranked candidates with reasons, consent requests, the guides",
        details=(
            "After the survey: ranks the success cases who agreed to be contacted by the strength of their "
            "evidence and the others by what they can teach (the journey's `interviews` settings say how "
            "many of each), sends each new candidate a consent request with times held on your calendar "
            "inside both your and their working hours, and lists the ranking with its reasons and the two "
            "interview guides. `swap <user> <user>` replaces the first candidate by the second (a request "
            "not yet answered is withdrawn and its times freed)."
        ),
        example="interviews spring-leads swap @eli @fatima",
    ),
    "interview": _Spec(
        usage=("interview <user> agreed|declined|notes | interview <user> "
               "success|applied_no_result|tried_no_success|not_applied [outcome <id>] [value <units>]"),
        summary="record a candidate's consent, or what their interview found",
        details=(
            "`agreed`/`declined` records consent given outside the request's buttons. `notes` sends you the "
            "interview notes form (a Slack modal, a Teams card): with their consent the story (situation, "
            "behaviour, result), the evidence you saw, what helped and what got in the way, and the value in a "
            "measured outcome's unit over its period; the report quotes it as a verified story. A "
            "classification alone records the verified result; `outcome` names the journey's PPP outcome it "
            "moved and `value` your estimate in that outcome's unit and period (e.g. 6 escalations avoided a month)."
        ),
        example="interview @ana success outcome fewer-escalations value 6",
    ),
}

COMMANDS: tuple[str, ...] = tuple(_SPECS)

HELP: dict[str, str] = {
    name: f"`{usage}` — {summary}.\n{details}\nExample: `{example}`"
    for name, (usage, summary, details, example) in _SPECS.items()
}


def help_text(topic: str | None = None) -> str:
    """The overview of all commands, or the usage of one (raises CommandError if unknown)."""
    if topic is None or not topic.strip():
        lines = [
            "Admin commands (Slack: `/journey <command>`; Teams: message `journey <command>`):",
        ]
        lines += [f"• `{usage}` — {summary}" for usage, summary, _, _ in _SPECS.values()]
        lines.append("Users: @mentions, e-mail addresses, or @name in the console.")
        lines.append("Type `help <command>` for details and an example.")
        return "\n".join(lines)
    name = topic.strip().lower()
    if name not in HELP:
        raise CommandError(f"`help`: {_unknown_command(topic.strip())}", topic.strip())
    return HELP[name]


# --------------------------------------------------------------------------- lexing

# A whole `<...>` (Slack escapes, spaces allowed in labels), an unterminated `<...` up to the next
# separator, or a run of ordinary characters. Whitespace, commas and semicolons separate tokens.
_TOKEN_RE = re.compile(r"<[^<>]*>|<[^\s,;]*|[^\s,;<]+")
_PREFIXES = ("journey", "/journey")
_HELP_WORDS = ("help", "--help", "-h", "?")

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_COHORT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_cohort_name(name: str) -> bool:
    """The one rule for cohort names (commands and CSV imports): what `report <cohort>` can reach."""
    return _COHORT_RE.fullmatch(name) is not None

_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATE_SHAPE_RE = re.compile(r"\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")
_USER_TOKEN_RE = re.compile(r"<user:([^\s<>|]+)(?:\|([^<>]*))?>")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")

_ENROLL_KEYWORDS = ("manager", "start", "event", "cohort", "facilitator")
_KEYWORD_CUTOFF = 0.7  # "manger" -> manager, but not "ana" -> manager
_USER_HINT = "expected a @mention, an e-mail address or @name"
_ENROLL_EXAMPLE = "enroll active-listening @ana manager @ben"
_MAX_SHOWN = 40


def user_token(user_id: str, label: str | None = None) -> str:
    """The grammar's reference to a platform user. An adapter writes it in place of its own mention
    syntax before handing a command line to `parse_command`, so this module knows no platform's."""
    uid = re.sub(r"[\s<>|]", "", user_id)
    name = " ".join(re.sub(r"[<>|]", "", label or "").split())
    return f"<user:{uid}|{name}>" if name else f"<user:{uid}>"


def _q(token: str) -> str:
    """Quote a token for a message, shortened if it is long."""
    shown = token if len(token) <= _MAX_SHOWN else token[: _MAX_SHOWN - 1] + "…"
    return f"'{shown}'"


def _suggest(word: str, choices: tuple[str, ...], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=cutoff)
    return found[0] if found else None


def _unknown_command(word: str) -> str:
    guess = _suggest(word, COMMANDS)
    if guess:
        return f"unknown command {_q(word)} — did you mean '{guess}'? Type `help`"
    return f"unknown command {_q(word)}. Type `help` to see the commands"


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


# --------------------------------------------------------------------------- values


class _Args:
    """The arguments of one command, with error helpers prefixed by the command's name."""

    def __init__(self, name: str, tokens: list[str]) -> None:
        self.name = name
        self.tokens = tokens

    def error(self, message: str, argument: str | None = None) -> CommandError:
        return CommandError(f"`{self.name}`: {message}", argument)

    def no_more(self, start: int, after: str = "") -> None:
        if start < len(self.tokens):
            extra = self.tokens[start]
            if start == 0:
                raise self.error(f"takes no arguments, got {_q(extra)}", extra)
            raise self.error(f"unexpected {_q(extra)}{after}", extra)


def _is_keyword(token: str) -> bool:
    return token.lower() in _ENROLL_KEYWORDS


def _looks_like_user(token: str) -> bool:
    return token.startswith(("<", "@")) or "@" in token


def _user(args: _Args, token: str) -> UserRef | None:
    """The user `token` refers to; None if it is a plain word; CommandError if malformed."""
    if not _looks_like_user(token):
        return None
    if token.startswith("<"):
        m = _USER_TOKEN_RE.fullmatch(token)
        if m:
            label = (m.group(2) or "").strip() or None
            return UserRef("mention", m.group(1), label)
        inner = token[1:-1] if token.endswith(">") else token[1:]
        if "@" in inner and not inner.startswith(("@", "!", "#")):  # a pasted <ana@example.com>
            return _email(args, token, inner)
        raise args.error(f"{_q(token)} is not a user ({_USER_HINT})", token)
    if token.startswith("@"):
        if _NAME_RE.fullmatch(token[1:]):
            return UserRef("name", token[1:])
        raise args.error(
            f"{_q(token)} is not a valid user name (expected @ followed by letters, digits, "
            "'.', '_' or '-')",
            token,
        )
    return _email(args, token, token)


def _email(args: _Args, token: str, address: str) -> UserRef:
    address = address.strip()
    if len(address) > 254 or not _EMAIL_RE.fullmatch(address):
        raise args.error(f"{_q(token)} is not a valid e-mail address", token)
    return UserRef("email", address.lower())


def _not_a_user(args: _Args, token: str) -> CommandError:
    hint = f" — did you mean @{token}?" if _NAME_RE.fullmatch(token) else ""
    return args.error(f"{_q(token)} is not a user ({_USER_HINT}){hint}", token)


def _required_user(args: _Args, token: str) -> UserRef:
    ref = _user(args, token)
    if ref is None:
        raise _not_a_user(args, token)
    return ref


def _exactly_one_user(args: _Args) -> UserRef:
    tokens = args.tokens
    example = f" (e.g. `{args.name} @ana`)"
    if not tokens:
        raise args.error(f"expected exactly one user, got none{example}")
    first = _required_user(args, tokens[0])
    if len(tokens) > 1:
        refs = [_user(args, t) for t in tokens[1:]]
        if all(r is not None for r in refs):
            raise args.error(f"expected exactly one user, got {len(tokens)}", tokens[1])
        extra = tokens[1 + [r is None for r in refs].index(True)]
        raise args.error(
            f"unexpected {_q(extra)} after the user (expected exactly one user)", extra
        )
    return first


def _journey_id(args: _Args, token: str) -> str:
    value = token.lower()
    if not _ID_RE.fullmatch(value):
        raise args.error(
            f"{_q(token)} is not a journey id (expected letters, digits, '-' or '_', starting "
            "with a letter or digit, e.g. active-listening)",
            token,
        )
    return value


def _cohort(args: _Args, token: str) -> str:
    if not is_cohort_name(token):
        raise args.error(
            f"{_q(token)} is not a cohort name (expected up to 64 letters, digits, '.', '_' or "
            "'-', e.g. spring-leads)",
            token,
        )
    return token


def _date(args: _Args, what: str, token: str, today: date) -> date:
    m = _DATE_RE.fullmatch(token)
    try:
        if not m:
            raise ValueError(token)
        value = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise args.error(
            f"{_q(f'{what} {token}')} is not a date (expected YYYY-MM-DD)", token
        ) from None
    if value < today - timedelta(days=GRACE_DAYS):
        raise args.error(
            f"{what} {value.isoformat()} is more than {GRACE_DAYS} days in the past", token
        )
    if value > today + timedelta(days=MAX_AHEAD_DAYS):
        raise args.error(f"{what} {value.isoformat()} is more than a year in the future", token)
    return value


# --------------------------------------------------------------------------- commands


def _parse_enroll(args: _Args, today: date) -> Enroll:
    tokens = args.tokens
    if not tokens or _is_keyword(tokens[0]) or _looks_like_user(tokens[0]):
        raise args.error(f"missing journey id (e.g. `{_ENROLL_EXAMPLE}`)")
    journey_id = _journey_id(args, tokens[0])

    users, i = _user_list(args, 1)
    facilitating = any(t.lower() == "facilitator" for t in tokens[i:])
    if not users and not facilitating:
        raise args.error(
            f"missing participants: expected at least one user after the journey id "
            f"(e.g. `{_ENROLL_EXAMPLE}`)"
        )
    participants = tuple(ref for ref, _ in users)

    manager: tuple[UserRef, str] | None = None
    facilitator: tuple[UserRef, str] | None = None
    start: date | None = None
    events: dict[str, date] = {}
    cohort: str | None = None
    while i < len(tokens):
        token = tokens[i]
        keyword = token.lower()
        if keyword == "manager":
            if manager is not None:
                raise args.error("`manager` given twice (expected exactly one manager)", token)
            if i + 1 < len(tokens) and tokens[i + 1].lower() == AUTO_MANAGER.value:
                manager, i = (AUTO_MANAGER, tokens[i + 1]), i + 2  # each one's own, from the directory
                continue
            managers, i = _user_list(args, i + 1)
            if not managers:
                raise args.error("`manager` needs a user (e.g. `manager @ben`)", token)
            if len(managers) > 1:
                raise args.error(
                    f"expected exactly one manager, got {len(managers)}", managers[1][1]
                )
            manager = managers[0]
        elif keyword == "start":
            if start is not None:
                raise args.error("`start` given twice", token)
            value = _value_after(tokens, i + 1)
            if value is None:
                raise args.error("`start` needs a date (expected YYYY-MM-DD)", token)
            start = _date(args, "start", value, today)
            i += 2
        elif keyword == "event":
            usage = "(expected `event <name> YYYY-MM-DD`)"
            name_token = _value_after(tokens, i + 1)
            if name_token is None:
                raise args.error(f"`event` needs a name and a date {usage}", token)
            if _DATE_SHAPE_RE.fullmatch(name_token):
                raise args.error(f"`event` needs a name before the date {usage}", name_token)
            name = name_token.lower()
            if not _ID_RE.fullmatch(name):
                raise args.error(
                    f"{_q(name_token)} is not an event name (expected letters, digits, '-' or "
                    "'_', e.g. workshop)",
                    name_token,
                )
            date_token = _value_after(tokens, i + 2)
            if date_token is None:
                raise args.error(f"`event {name}` needs a date {usage}", name_token)
            when = _date(args, f"event {name}", date_token, today)
            if name in events:
                raise args.error(f"event '{name}' given twice", name_token)
            events[name] = when
            i += 3
        elif keyword == "cohort":
            if cohort is not None:
                raise args.error("`cohort` given twice", token)
            value = _value_after(tokens, i + 1)
            if value is None:
                raise args.error("`cohort` needs a name (e.g. `cohort spring-leads`)", token)
            cohort = _cohort(args, value)
            i += 2
        elif keyword == "facilitator":
            if facilitator is not None:
                raise args.error("`facilitator` given twice (one facilitator per cohort)", token)
            found, i = _user_list(args, i + 1)
            if not found:
                raise args.error("`facilitator` needs a user (e.g. `facilitator @fay`)", token)
            if len(found) > 1:
                raise args.error(f"expected exactly one facilitator, got {len(found)}", found[1][1])
            facilitator = found[0]
        elif _user(args, token) is not None:
            raise args.error(
                f"unexpected user {_q(token)} — list every participant right after the journey id",
                token,
            )
        else:
            raise _unknown_keyword(args, token)

    if facilitator is not None and facilitator[0] in participants:
        raise args.error(
            f"the facilitator can't also be a participant ({facilitator[0].display})", facilitator[1]
        )
    if not participants:
        return _facilitator_only(args, journey_id, facilitator, manager, start, events, cohort)
    if manager is None:
        raise args.error(f"missing `manager <user>` (e.g. `{_ENROLL_EXAMPLE}`)")
    if manager[0] in participants:
        raise args.error(
            f"the manager can't also be a participant ({manager[0].display})", manager[1]
        )
    return Enroll(journey_id, participants, manager[0], start, events, cohort,
                  facilitator[0] if facilitator else None)


def _facilitator_only(args: _Args, journey_id: str, facilitator: tuple[UserRef, str] | None,
                      manager: tuple[UserRef, str] | None, start: date | None, events: dict[str, date],
                      cohort: str | None) -> Enroll:
    """`enroll <journey> facilitator <user> cohort <name>`: a facilitator for an existing cohort."""
    example = f"(e.g. `enroll {journey_id} facilitator @fay cohort spring-leads`)"
    if facilitator is None:  # (the parser only comes here with one)
        raise args.error(f"missing participants or `facilitator <user>` {example}")
    if manager is not None or start is not None or events:
        raise args.error("`manager`, `start` and `event` go with participants; to assign only a facilitator "
                         f"name the cohort {example}", manager[1] if manager else None)
    if cohort is None:
        raise args.error(f"a facilitator without participants needs the cohort they facilitate {example}")
    return Enroll(journey_id, (), AUTO_MANAGER, None, {}, cohort, facilitator[0])


def _value_after(tokens: list[str], i: int) -> str | None:
    """The token at `i` if there is one and it isn't the next keyword."""
    if i < len(tokens) and not _is_keyword(tokens[i]):
        return tokens[i]
    return None


def _unknown_keyword(args: _Args, token: str) -> CommandError:
    guess = _suggest(token, _ENROLL_KEYWORDS, _KEYWORD_CUTOFF)
    hint = f" — did you mean '{guess}'?" if guess else ""
    return args.error(
        f"unknown keyword {_q(token)} after the users{hint} (expected `manager`, `start`, "
        "`event`, `cohort` or `facilitator`; users are @mentions, e-mail addresses or @names)",
        token,
    )


def _user_list(args: _Args, i: int) -> tuple[list[tuple[UserRef, str]], int]:
    """Users from position `i` up to the next keyword, each with its token; no duplicates."""
    tokens = args.tokens
    found: list[tuple[UserRef, str]] = []
    while i < len(tokens) and not _is_keyword(tokens[i]):
        token = tokens[i]
        ref = _user(args, token)
        if ref is None:
            if found or _suggest(token, _ENROLL_KEYWORDS, _KEYWORD_CUTOFF):
                raise _unknown_keyword(args, token)
            raise _not_a_user(args, token)
        for seen, _ in found:
            if seen == ref:
                raise args.error(f"{ref.display} is listed twice", token)
        found.append((ref, token))
        i += 1
    return found, i


def _parse_status(args: _Args) -> Status:
    tokens = args.tokens
    if not tokens:
        return Status()
    if len(tokens) > 1:
        raise args.error(
            f"expected one user or cohort, got {len(tokens)} (e.g. `status @ana` or "
            "`status spring-leads`)",
            tokens[1],
        )
    ref = _user(args, tokens[0])
    return Status(ref if ref is not None else _cohort(args, tokens[0]))


def _parse_report(args: _Args, raw: str) -> Report:
    tokens = args.tokens
    if not tokens:
        raise args.error("missing cohort name (e.g. `report spring-leads csv`)")
    if _looks_like_user(tokens[0]):
        raise args.error(
            f"expected a cohort name, got a user {_q(tokens[0])} — use `status <user>` for one "
            "person",
            tokens[0],
        )
    cohort = _cohort(args, tokens[0])
    fmt = tokens[1].lower() if len(tokens) > 1 else ""
    if fmt == "recommendations":
        return _parse_recommendations(args, cohort, raw)
    known = fmt in ("csv", "xapi")
    args.no_more(2 if known else 1, " (expected `csv`, `xapi`, `recommendations` or nothing after the cohort)")
    return Report(cohort, csv=fmt == "csv", xapi=fmt == "xapi")


RECOMMENDATIONS_MAX = 4000  # characters of the edited "What to change": about a page
_SET_TEXT = re.compile(r"\brecommendations\s+set(?=\s|$)(.*)\Z", re.IGNORECASE | re.DOTALL)


def _parse_recommendations(args: _Args, cohort: str, raw: str) -> Report:
    """`report <cohort> recommendations [set <text>|reset]`; the text is taken as typed, line
    breaks, commas and all (the tokens would lose them)."""
    tokens = args.tokens
    action = tokens[2].lower() if len(tokens) > 2 else ""
    if not action:
        return Report(cohort, recommendations="show")
    if action == "reset":
        args.no_more(3, " (`recommendations reset` takes nothing more)")
        return Report(cohort, recommendations="reset")
    if action != "set":
        raise args.error(f"unexpected {_q(tokens[2])} (expected `set <text>`, `reset` or nothing after "
                         "`recommendations`)", tokens[2])
    found = _SET_TEXT.search(raw)
    text = found.group(1).strip() if found else ""
    if not text:
        raise args.error(f"missing the text after `set` (e.g. `report {cohort} recommendations set Ask every "
                         "manager to hold the expectations conversation`)")
    if len(text) > RECOMMENDATIONS_MAX:
        raise args.error(f"the text is {len(text)} characters; at most {RECOMMENDATIONS_MAX} fit")
    return Report(cohort, recommendations="set", text=text)


def _parse_unenroll(args: _Args) -> Unenroll:
    tokens = args.tokens
    if not tokens:
        raise args.error("expected exactly one user, got none (e.g. `unenroll @ana`)")
    positions = [n for n, t in enumerate(tokens) if _looks_like_user(t)]
    if len(positions) > 1:
        raise args.error(f"expected exactly one user, got {len(positions)}", tokens[positions[1]])
    if not positions:
        raise _not_a_user(args, tokens[0])
    user = _required_user(args, tokens[positions[0]])
    others = [t for n, t in enumerate(tokens) if n != positions[0]]
    journey_id = _journey_id(args, others[0]) if others else None
    if len(others) > 1:
        raise args.error(
            f"unexpected {_q(others[1])} (expected `unenroll <user> [<journey-id>]`)", others[1]
        )
    return Unenroll(user, journey_id)


def _parse_admins(args: _Args) -> Admins:
    tokens = args.tokens
    if not tokens:
        return Admins("list")
    action = tokens[0].lower()
    if action == "list":
        args.no_more(1, " (`admins list` takes no arguments)")
        return Admins("list")
    if action in ("add", "remove"):
        sub = _Args(f"admins {action}", tokens[1:])
        return Admins("add" if action == "add" else "remove", _exactly_one_user(sub))
    if _looks_like_user(tokens[0]):
        raise args.error(
            "missing action before the user (expected `admins add <user>` or "
            "`admins remove <user>`)",
            tokens[0],
        )
    guess = _suggest(action, ("list", "add", "remove"))
    hint = f" — did you mean '{guess}'?" if guess else ""
    raise args.error(
        f"unknown action {_q(tokens[0])}{hint} (expected list, add or remove)", tokens[0]
    )


def _parse_audit(args: _Args) -> Audit:
    tokens = args.tokens
    if not tokens:
        return Audit()
    token = tokens[0]
    if not token.isascii() or not token.isdigit() or not 1 <= int(token) <= AUDIT_MAX_LIMIT:
        raise args.error(
            f"{_q(token)} is not a number of entries (expected 1 to {AUDIT_MAX_LIMIT})", token
        )
    args.no_more(1, " (expected `audit [N]`)")
    return Audit(int(token))


def _parse_interviews(args: _Args) -> Interviews:
    if not args.tokens:
        raise args.error("missing cohort name (e.g. `interviews spring-leads`)")
    cohort = _cohort(args, args.tokens[0])
    if len(args.tokens) > 1 and args.tokens[1].lower() == "swap":
        if len(args.tokens) < 4:
            raise args.error("`swap` needs two users: the candidate to replace, then who takes their place "
                             "(e.g. `interviews spring-leads swap @eli @fatima`)")
        out, into = _required_user(args, args.tokens[2]), _required_user(args, args.tokens[3])
        if out == into:
            raise args.error("`swap` needs two different users", args.tokens[3])
        args.no_more(4, " (expected `interviews <cohort> swap <user> <user>`)")
        return Interviews(cohort, (out, into))
    args.no_more(1, " (expected `interviews <cohort>` or `interviews <cohort> swap <user> <user>`)")
    return Interviews(cohort)


def _parse_interview(args: _Args) -> Interview:
    tokens = args.tokens
    if not tokens:
        raise args.error("expected a user, then agreed, declined or a classification "
                         "(e.g. `interview @ana success outcome fewer-escalations value 6`)")
    user = _required_user(args, tokens[0])
    if len(tokens) < 2:
        raise args.error("missing agreed, declined or a classification (" + ", ".join(SCM_VERDICTS) + ")")
    word = tokens[1].lower()
    if word in ("agreed", "declined", "notes"):
        args.no_more(2, f" (expected nothing after `{word}`)")
        return Interview(user, "agreed" if word == "agreed" else "declined" if word == "declined" else "notes")
    if word not in SCM_VERDICTS:
        guess = _suggest(word, ("agreed", "declined", "notes", *SCM_VERDICTS))
        hint = f" — did you mean '{guess}'?" if guess else ""
        raise args.error(f"unknown result {_q(tokens[1])}{hint} (expected agreed, declined, notes, "
                         + ", ".join(SCM_VERDICTS) + ")", tokens[1])
    outcome: str | None = None
    units: float | None = None
    i = 2
    while i < len(tokens):
        key, value = tokens[i].lower(), _value_after(tokens, i + 1)
        if key not in ("outcome", "value"):
            raise args.error(f"unexpected {_q(tokens[i])} (expected `outcome <id>` or `value <units>`)", tokens[i])
        if value is None:
            raise args.error(f"missing a value after `{key}`", tokens[i])
        if key == "outcome":
            if not _ID_RE.fullmatch(value):
                raise args.error(f"{_q(value)} is not an outcome id (lowercase letters, digits, '-')", value)
            outcome = value
        else:
            try:
                units = float(value)
            except ValueError:
                units = None
            if units is None or not 0 <= units < 1e9:
                raise args.error(f"{_q(value)} is not a number of units (e.g. `value 6` or `value 2.5`)", value)
        i += 2
    return Interview(user, "verified", word, outcome, units)


def _parse_help(args: _Args) -> Help:
    tokens = args.tokens
    if not tokens:
        return Help()
    if len(tokens) > 1:
        raise args.error(
            f"expected at most one command name, got {len(tokens)} (e.g. `help enroll`)",
            tokens[1],
        )
    topic = tokens[0].lower()
    if topic not in COMMANDS:
        raise args.error(_unknown_command(tokens[0]), tokens[0])
    return Help(topic)


def parse_command(text: str, today: date) -> Command:
    """Parse one admin command as typed in Slack, Teams or the console.

    `today` is the admin's current date, used to check `start` and `event` dates. Raises
    CommandError (and nothing else) for anything that isn't a valid command.
    """
    tokens = _tokens(text)
    if tokens and tokens[0].lower() in _PREFIXES:
        tokens = tokens[1:]
    if not tokens:
        return Help()
    word, rest = tokens[0], tokens[1:]
    name = word.lower()
    if name in ("?", "--help", "-h"):
        name = "help"
    if name not in COMMANDS:
        raise CommandError(_unknown_command(word), word)
    if name != "help" and len(rest) == 1 and rest[0].lower() in _HELP_WORDS:
        return Help(name)
    args = _Args(name, rest)
    if name == "help":
        return _parse_help(args)
    if name == "journeys":
        args.no_more(0)
        return Journeys()
    if name == "dashboard":
        args.no_more(0)
        return Dashboard()
    if name == "enroll":
        return _parse_enroll(args, today)
    if name == "status":
        return _parse_status(args)
    if name == "report":
        return _parse_report(args, text)
    if name == "unenroll":
        return _parse_unenroll(args)
    if name == "admins":
        return _parse_admins(args)
    if name == "audit":
        return _parse_audit(args)
    if name == "interviews":
        return _parse_interviews(args)
    if name == "interview":
        return _parse_interview(args)
    user = _exactly_one_user(args)
    if name == "pause":
        return Pause(user)
    if name == "resume":
        return Resume(user)
    if name == "forget":
        return Forget(user)
    return Export(user)
