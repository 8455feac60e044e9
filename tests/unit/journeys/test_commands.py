"""The admin command grammar (`journeys.admin.commands`): one parser for Slack, Teams and the console.

Every command is parsed from each front end's spelling, once its adapter has turned its own
mention syntax into the grammar's neutral user reference (`<user:ID|label>`, `user_token`; the
adapters' tests pin that translation): Slack slash-command text, a Teams message with and without
the leading `journey` (`<user:29:...>` / `<user:aad-guid>`), e-mail addresses and the console's
`@name`. Every error message is pinned, and hypothesis checks that no input raises anything but
CommandError.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.admin import commands
from journeys.admin.commands import (
    AUDIT_DEFAULT_LIMIT,
    AUDIT_MAX_LIMIT,
    COMMANDS,
    GRACE_DAYS,
    HELP,
    Admins,
    Audit,
    Command,
    CommandError,
    Dashboard,
    Enroll,
    Export,
    Forget,
    Help,
    Interview,
    Interviews,
    Journeys,
    Pause,
    Report,
    Resume,
    Status,
    Unenroll,
    UserRef,
    help_text,
    parse_command,
)
from journeys.text import mention

TODAY = date(2026, 3, 1)


def parse(text: str) -> Command:
    return parse_command(text, TODAY)


def error(text: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse(text)
    return info.value


# --------------------------------------------------------------------------- front ends


@dataclass(frozen=True)
class Style:
    """How one front end spells a command: a prefix and three users a, b, c."""

    name: str
    prefix: str
    tokens: tuple[str, str, str]
    refs: tuple[UserRef, UserRef, UserRef]

    def render(self, template: str) -> str:
        a, b, c = self.tokens
        return self.prefix + template.format(a=a, b=b, c=c)


STYLES = [
    Style(
        "slack",
        "",
        ("<user:U0ANA1|ana>", "<user:U0BEN2|ben>", "<user:W0CY3>"),
        (
            UserRef("mention", "U0ANA1", "ana"),
            UserRef("mention", "U0BEN2", "ben"),
            UserRef("mention", "W0CY3"),
        ),
    ),
    Style(
        "slack-email",
        "",
        ("ana@example.com", "ben@example.com", "<Cy@Example.COM>"),
        (
            UserRef("email", "ana@example.com"),
            UserRef("email", "ben@example.com"),
            UserRef("email", "cy@example.com"),
        ),
    ),
    Style(
        "teams",
        "journey ",
        ("<user:29:1a2B-3c4D_ana>", "<user:8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11>", "<user:29:1cyCY>"),
        (
            UserRef("mention", "29:1a2B-3c4D_ana"),
            UserRef("mention", "8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11"),
            UserRef("mention", "29:1cyCY"),
        ),
    ),
    Style(
        "teams-bare",
        "",
        ("<user:29:1a2B-3c4D_ana>", "<user:8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11>", "<user:29:1cyCY>"),
        (
            UserRef("mention", "29:1a2B-3c4D_ana"),
            UserRef("mention", "8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11"),
            UserRef("mention", "29:1cyCY"),
        ),
    ),
    Style(
        "console",
        "",
        ("@ana", "@ben.k", "@cy_3-x"),
        (UserRef("name", "ana"), UserRef("name", "ben.k"), UserRef("name", "cy_3-x")),
    ),
    Style(
        "console-slash",
        "/journey ",
        ("@ana", "@ben.k", "@cy_3-x"),
        (UserRef("name", "ana"), UserRef("name", "ben.k"), UserRef("name", "cy_3-x")),
    ),
]

Refs = tuple[UserRef, UserRef, UserRef]

# (template, expected command given the style's users a, b, c)
CASES: list[tuple[str, Callable[[Refs], Command]]] = [
    ("help", lambda r: Help()),
    ("help enroll", lambda r: Help("enroll")),
    ("HELP Admins", lambda r: Help("admins")),
    ("journeys", lambda r: Journeys()),
    (
        "enroll active-listening {a} manager {b}",
        lambda r: Enroll("active-listening", (r[0],), r[1]),
    ),
    (
        "enroll active-listening {a} {c} manager {b} start 2026-03-02",
        lambda r: Enroll("active-listening", (r[0], r[2]), r[1], date(2026, 3, 2)),
    ),
    (
        (
            "enroll active-listening {a}, {c} manager {b} start 2026-03-02 event workshop 2026-03-10 "
            "event kickoff 2026-03-03 cohort spring-leads"
        ),
        lambda r: Enroll(
            "active-listening",
            (r[0], r[2]),
            r[1],
            date(2026, 3, 2),
            {"workshop": date(2026, 3, 10), "kickoff": date(2026, 3, 3)},
            "spring-leads",
        ),
    ),
    (
        "  Enroll   active-listening\t{a} ,{c},  MANAGER {b}  Cohort Q1.leads  Start 2026-2-25 ",
        lambda r: Enroll("active-listening", (r[0], r[2]), r[1], date(2026, 2, 25), {}, "Q1.leads"),
    ),
    ("status", lambda r: Status()),
    ("status {a}", lambda r: Status(r[0])),
    ("status spring-leads", lambda r: Status("spring-leads")),
    ("report spring-leads", lambda r: Report("spring-leads")),
    ("report spring-leads CSV", lambda r: Report("spring-leads", csv=True)),
    ("report spring-leads xapi", lambda r: Report("spring-leads", xapi=True)),
    ("pause {a}", lambda r: Pause(r[0])),
    ("resume {b}", lambda r: Resume(r[1])),
    ("unenroll {a}", lambda r: Unenroll(r[0])),
    ("unenroll {a} active-listening", lambda r: Unenroll(r[0], "active-listening")),
    ("unenroll active-listening {a}", lambda r: Unenroll(r[0], "active-listening")),
    ("forget {c}", lambda r: Forget(r[2])),
    ("export {a}", lambda r: Export(r[0])),
    ("dashboard", lambda r: Dashboard()),
    ("admins", lambda r: Admins("list")),
    ("admins list", lambda r: Admins("list")),
    ("admins add {b}", lambda r: Admins("add", r[1])),
    ("admins REMOVE {b}", lambda r: Admins("remove", r[1])),
    ("audit", lambda r: Audit(AUDIT_DEFAULT_LIMIT)),
    ("audit 50", lambda r: Audit(50)),
    ("interviews spring-leads", lambda r: Interviews("spring-leads")),
    ("interview {a} agreed", lambda r: Interview(r[0], "agreed")),
    ("interview {a} Declined", lambda r: Interview(r[0], "declined")),
    ("interview {a} not_applied", lambda r: Interview(r[0], "verified", "not_applied")),
    ("interview {a} success outcome fewer-escalations value 6",
     lambda r: Interview(r[0], "verified", "success", "fewer-escalations", 6.0)),
    ("interview {a} success value 2.5 outcome x", lambda r: Interview(r[0], "verified", "success", "x", 2.5)),
]


@pytest.mark.parametrize("style", STYLES, ids=[s.name for s in STYLES])
@pytest.mark.parametrize("template,expected", CASES, ids=[c[0].strip()[:40] for c in CASES])
def test_every_command_parses_from_every_front_end(
    style: Style, template: str, expected: Callable[[Refs], Command]
) -> None:
    assert parse(style.render(template)) == expected(style.refs)


def test_every_command_is_covered_by_the_cases() -> None:
    covered = {type(expected(STYLES[0].refs)).command for _, expected in CASES}
    assert covered == set(COMMANDS)


# --------------------------------------------------------------------------- users


@pytest.mark.parametrize(
    "token,ref",
    [
        ("<user:U123ABC>", UserRef("mention", "U123ABC")),
        ("<user:U123ABC|ana>", UserRef("mention", "U123ABC", "ana")),
        ("<user:U123ABC|Ana Smith>", UserRef("mention", "U123ABC", "Ana Smith")),
        ("<user:29:1a2b3c-DEF_g>", UserRef("mention", "29:1a2b3c-DEF_g")),
        (
            "<user:8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11>",
            UserRef("mention", "8f2c1c1e-58d4-4b6a-9a43-0c6f9f3e7a11"),
        ),
        ("ana.smith+hr@Example.co.uk", UserRef("email", "ana.smith+hr@example.co.uk")),
        ("<Ana@Example.com>", UserRef("email", "ana@example.com")),
        ("<ana@example.com>", UserRef("email", "ana@example.com")),
        ("@ana", UserRef("name", "ana")),
        ("@A.b_c-9", UserRef("name", "A.b_c-9")),
    ],
)
def test_user_references(token: str, ref: UserRef) -> None:
    assert parse(f"pause {token}") == Pause(ref)


def test_the_mention_label_does_not_make_a_different_user() -> None:
    assert UserRef("mention", "U1", "ana") == UserRef("mention", "U1")
    assert error("enroll active-listening <user:U1|ana> manager <user:U1>").message == (
        f"`enroll`: the manager can't also be a participant ({mention('U1')})"
    )


def test_a_teams_mention_with_a_display_name_label_is_accepted() -> None:
    # The Teams adapter may keep the <at> text as a label; spaces inside <...> stay one token.
    assert parse("journey pause <user:29:abc|Ana de Vries>") == Pause(
        UserRef("mention", "29:abc", "Ana de Vries")
    )


@pytest.mark.parametrize(
    "token,message",
    [
        ("ana@", "'ana@' is not a valid e-mail address"),
        ("ana@example", "'ana@example' is not a valid e-mail address"),
        ("a..b@example.com", "'a..b@example.com' is not a valid e-mail address"),
        ("<nope@>", "'<nope@>' is not a valid e-mail address"),
        ("<@U1|ana>", "'<@U1|ana>' is not a user (expected a @mention, an e-mail address or @name)"),  # Slack's own
        (
            "@",
            "'@' is not a valid user name (expected @ followed by letters, digits, '.', '_' or '-')",
        ),
        (
            "@ana!",
            "'@ana!' is not a valid user name (expected @ followed by letters, digits, '.', '_' or '-')",
        ),
        ("<user:>", "'<user:>' is not a user (expected a @mention, an e-mail address or @name)"),
        ("<user:U1", "'<user:U1' is not a user (expected a @mention, an e-mail address or @name)"),
        ("<!here>", "'<!here>' is not a user (expected a @mention, an e-mail address or @name)"),
        (
            "<#C123|general>",
            "'<#C123|general>' is not a user (expected a @mention, an e-mail address or @name)",
        ),
        (
            "ana",
            "'ana' is not a user (expected a @mention, an e-mail address or @name) — did you mean @ana?",
        ),
    ],
)
def test_malformed_users(token: str, message: str) -> None:
    err = error(f"forget {token}")
    assert err.message == f"`forget`: {message}"
    assert err.argument == token


# --------------------------------------------------------------------------- the errors


def test_bad_start_date() -> None:
    err = error("enroll active-listening @ana manager @ben start 2026-13-01")
    assert err.message == "`enroll`: 'start 2026-13-01' is not a date (expected YYYY-MM-DD)"
    assert err.argument == "2026-13-01"
    for bad in ("2026-02-30", "01-03-2026", "tomorrow", "2026/03/02", "20260302"):
        err = error(f"enroll active-listening @ana manager @ben start {bad}")
        assert err.message == f"`enroll`: 'start {bad}' is not a date (expected YYYY-MM-DD)"
        assert err.argument == bad


def test_missing_manager() -> None:
    err = error("enroll active-listening @ana")
    assert err.message == (
        "`enroll`: missing `manager <user>` (e.g. `enroll active-listening @ana manager @ben`)"
    )
    err = error("enroll active-listening @ana start 2026-03-02 cohort x")
    assert "missing `manager <user>`" in err.message


def test_manager_who_is_also_a_participant() -> None:
    err = error("enroll active-listening @ana @bo manager @ana")
    assert err.message == "`enroll`: the manager can't also be a participant (@ana)"
    assert err.argument == "@ana"
    err = error("enroll active-listening <Ana@x.org> manager ana@X.org")
    assert err.message == "`enroll`: the manager can't also be a participant (ana@x.org)"


def test_start_date_window() -> None:
    err = error("enroll active-listening @ana manager @ben start 2025-01-01")
    assert err.message == "`enroll`: start 2025-01-01 is more than 7 days in the past"
    assert err.argument == "2025-01-01"
    oldest = TODAY - timedelta(days=GRACE_DAYS)
    ok = parse(f"enroll active-listening @ana manager @ben start {oldest.isoformat()}")
    assert isinstance(ok, Enroll) and ok.start == oldest
    too_old = oldest - timedelta(days=1)
    assert error(f"enroll active-listening @ana manager @ben start {too_old}").message == (
        f"`enroll`: start {too_old} is more than {GRACE_DAYS} days in the past"
    )
    latest = TODAY + timedelta(days=commands.MAX_AHEAD_DAYS)
    ok = parse(f"enroll active-listening @ana manager @ben start {latest}")
    assert isinstance(ok, Enroll) and ok.start == latest
    err = error(f"enroll active-listening @ana manager @ben start {latest + timedelta(days=1)}")
    assert err.message == (
        f"`enroll`: start {latest + timedelta(days=1)} is more than a year in the future"
    )


def test_the_window_follows_today() -> None:
    text = "enroll active-listening @ana manager @ben start 2025-01-01"
    assert isinstance(parse_command(text, date(2025, 1, 5)), Enroll)
    with pytest.raises(CommandError):
        parse_command(text, date(2025, 1, 9))


def test_unknown_command_suggests_the_nearest() -> None:
    err = error("enrol active-listening @ana manager @ben")
    assert err.message == "unknown command 'enrol' — did you mean 'enroll'? Type `help`"
    assert err.argument == "enrol"
    assert error("journey stats").message == (
        "unknown command 'stats' — did you mean 'status'? Type `help`"
    )
    assert error("admin add @ana").message == (
        "unknown command 'admin' — did you mean 'admins'? Type `help`"
    )
    assert error("xyzzy").message == "unknown command 'xyzzy'. Type `help` to see the commands"


@pytest.mark.parametrize("name", ["pause", "resume", "forget", "export"])
def test_single_user_commands_want_exactly_one_user(name: str) -> None:
    err = error(f"{name} @ana @ben")
    assert err.message == f"`{name}`: expected exactly one user, got 2"
    assert err.argument == "@ben"
    assert error(f"{name} @ana, @ben, <user:U3>").message == (
        f"`{name}`: expected exactly one user, got 3"
    )
    err = error(name)
    assert err.message == f"`{name}`: expected exactly one user, got none (e.g. `{name} @ana`)"
    assert err.argument is None
    err = error(f"{name} @ana until")
    assert err.message == (
        f"`{name}`: unexpected 'until' after the user (expected exactly one user)"
    )


def test_duplicate_users_in_the_list() -> None:
    err = error("enroll active-listening @ana @bo @ana manager @ben")
    assert err.message == "`enroll`: @ana is listed twice"
    assert err.argument == "@ana"
    err = error("enroll active-listening <user:U1|ana> <user:U1> manager @ben")
    assert err.message == f"`enroll`: {mention('U1')} is listed twice"
    err = error("enroll active-listening ana@x.org, ANA@x.org manager @ben")
    assert err.message == "`enroll`: ana@x.org is listed twice"


def test_a_clause_or_user_given_twice() -> None:
    err = error("enroll active-listening @ana manager @ben manager @cy")
    assert err.message == "`enroll`: `manager` given twice (expected exactly one manager)"
    err = error("enroll active-listening @ana manager @ben @cy")
    assert err.message == "`enroll`: expected exactly one manager, got 2"
    assert err.argument == "@cy"
    err = error("enroll active-listening @ana manager @ben start 2026-03-02 start 2026-03-03")
    assert err.message == "`enroll`: `start` given twice"
    err = error("enroll active-listening @ana manager @ben cohort a cohort b")
    assert err.message == "`enroll`: `cohort` given twice"
    err = error("enroll active-listening @ana manager @ben event ws 2026-03-02 event WS 2026-03-03")
    assert err.message == "`enroll`: event 'ws' given twice"
    err = error("enroll active-listening @ana manager @ben start 2026-03-02 @cy")
    assert err.message == (
        "`enroll`: unexpected user '@cy' — list every participant right after the journey id"
    )
    assert err.argument == "@cy"


def test_unknown_keyword_after_the_users() -> None:
    expected = (
        "(expected `manager`, `start`, `event`, `cohort` or `facilitator`; users are @mentions, e-mail "
        "addresses or @names)"
    )
    err = error("enroll active-listening @ana supervisor @ben")
    assert err.message == f"`enroll`: unknown keyword 'supervisor' after the users {expected}"
    assert err.argument == "supervisor"
    err = error("enroll active-listening @ana manger @ben")
    assert err.message == (
        f"`enroll`: unknown keyword 'manger' after the users — did you mean 'manager'? {expected}"
    )
    err = error("enroll active-listening @ana manager @ben strat 2026-03-02")
    assert "unknown keyword 'strat' after the users — did you mean 'start'?" in err.message
    err = error("enroll active-listening @ana manager @ben on 2026-03-02")
    assert err.message == f"`enroll`: unknown keyword 'on' after the users {expected}"
    # a bare word where the first participant belongs is a user without its '@'
    err = error("enroll active-listening ana manager @ben")
    assert err.message == (
        "`enroll`: 'ana' is not a user (expected a @mention, an e-mail address or @name)"
        " — did you mean @ana?"
    )


def test_event_needs_a_name_and_a_date() -> None:
    usage = "(expected `event <name> YYYY-MM-DD`)"
    err = error("enroll active-listening @ana manager @ben event workshop")
    assert err.message == f"`enroll`: `event workshop` needs a date {usage}"
    assert err.argument == "workshop"
    err = error("enroll active-listening @ana manager @ben event workshop cohort x")
    assert err.message == f"`enroll`: `event workshop` needs a date {usage}"
    err = error("enroll active-listening @ana manager @ben event")
    assert err.message == f"`enroll`: `event` needs a name and a date {usage}"
    err = error("enroll active-listening @ana manager @ben event 2026-03-05")
    assert err.message == f"`enroll`: `event` needs a name before the date {usage}"
    err = error("enroll active-listening @ana manager @ben event workshop 2026-02-30")
    assert err.message == (
        "`enroll`: 'event workshop 2026-02-30' is not a date (expected YYYY-MM-DD)"
    )
    err = error("enroll active-listening @ana manager @ben event workshop 2020-01-01")
    assert err.message == "`enroll`: event workshop 2020-01-01 is more than 7 days in the past"
    err = error("enroll active-listening @ana manager @ben event work!shop 2026-03-05")
    assert err.message == (
        "`enroll`: 'work!shop' is not an event name (expected letters, digits, '-' or '_', "
        "e.g. workshop)"
    )


@pytest.mark.parametrize("bad", ["-listening", "active.listening", "_x", "akt!v", "café"])
def test_journey_ids_must_match_the_id_pattern(bad: str) -> None:
    expected = (
        f"'{bad}' is not a journey id (expected letters, digits, '-' or '_', starting with a "
        "letter or digit, e.g. active-listening)"
    )
    err = error(f"enroll {bad} @ana manager @ben")
    assert err.message == f"`enroll`: {expected}"
    assert err.argument == bad
    assert error(f"unenroll @ana {bad}").message == f"`unenroll`: {expected}"


def test_journey_ids_are_case_insensitive() -> None:
    cmd = parse("Enroll Active-Listening @ana manager @ben")
    assert isinstance(cmd, Enroll) and cmd.journey_id == "active-listening"


def test_missing_enroll_parts() -> None:
    example = "(e.g. `enroll active-listening @ana manager @ben`)"
    assert error("enroll").message == f"`enroll`: missing journey id {example}"
    assert error("enroll @ana manager @ben").message == f"`enroll`: missing journey id {example}"
    assert error("enroll active-listening manager @ben").message == (
        f"`enroll`: missing participants: expected at least one user after the journey id {example}"
    )
    assert error("enroll active-listening @ana manager").message == (
        "`enroll`: `manager` needs a user (e.g. `manager @ben`)"
    )
    assert error("enroll active-listening @ana manager start 2026-03-02").message == (
        "`enroll`: `manager` needs a user (e.g. `manager @ben`)"
    )
    assert error("enroll active-listening @ana manager @ben start").message == (
        "`enroll`: `start` needs a date (expected YYYY-MM-DD)"
    )
    assert error("enroll active-listening @ana manager @ben cohort").message == (
        "`enroll`: `cohort` needs a name (e.g. `cohort spring-leads`)"
    )
    assert error("enroll active-listening @ana manager @ben cohort sp<r>ing").argument is not None


def test_clauses_may_come_in_any_order_after_the_users() -> None:
    cmd = parse("enroll active-listening @ana cohort c1 start 2026-03-04 manager @ben")
    assert cmd == Enroll(
        "active-listening",
        (UserRef("name", "ana"),),
        UserRef("name", "ben"),
        date(2026, 3, 4),
        {},
        "c1",
    )


def test_other_command_errors() -> None:
    assert error("journeys all").message == "`journeys`: takes no arguments, got 'all'"
    assert error("dashboard now").message == "`dashboard`: takes no arguments, got 'now'"
    assert error("status @ana @ben").message == (
        "`status`: expected one user or cohort, got 2 (e.g. `status @ana` or `status spring-leads`)"
    )
    assert error("status spring!").message == (
        "`status`: 'spring!' is not a cohort name (expected up to 64 letters, digits, '.', '_' "
        "or '-', e.g. spring-leads)"
    )
    assert (
        error("report").message == "`report`: missing cohort name (e.g. `report spring-leads csv`)"
    )
    assert error("report @ana").message == (
        "`report`: expected a cohort name, got a user '@ana' — use `status <user>` for one person"
    )
    err = error("report spring-leads pdf")
    assert err.message == (
        "`report`: unexpected 'pdf' (expected `csv`, `xapi`, `recommendations` or nothing after the cohort)"
    )
    assert err.argument == "pdf"
    assert error("report spring-leads csv x").argument == "x"
    assert error("unenroll").message == (
        "`unenroll`: expected exactly one user, got none (e.g. `unenroll @ana`)"
    )
    assert error("unenroll @ana @ben").message == "`unenroll`: expected exactly one user, got 2"
    assert error("unenroll @ana a b").message == (
        "`unenroll`: unexpected 'b' (expected `unenroll <user> [<journey-id>]`)"
    )
    assert error("admins ad @ben").message == (
        "`admins`: unknown action 'ad' — did you mean 'add'? (expected list, add or remove)"
    )
    assert error("admins @ben").message == (
        "`admins`: missing action before the user (expected `admins add <user>` or "
        "`admins remove <user>`)"
    )
    assert error("admins add").message == (
        "`admins add`: expected exactly one user, got none (e.g. `admins add @ana`)"
    )
    assert (
        error("admins remove @a @b").message == "`admins remove`: expected exactly one user, got 2"
    )
    assert error("admins list all").message == (
        "`admins`: unexpected 'all' (`admins list` takes no arguments)"
    )
    for bad in ("x", "0", "-5", str(AUDIT_MAX_LIMIT + 1), "٣"):
        err = error(f"audit {bad}")
        assert err.message == (
            f"`audit`: '{bad}' is not a number of entries (expected 1 to {AUDIT_MAX_LIMIT})"
        )
    assert error("audit 5 6").message == "`audit`: unexpected '6' (expected `audit [N]`)"
    assert error("help enrol").message == (
        "`help`: unknown command 'enrol' — did you mean 'enroll'? Type `help`"
    )
    assert error("help enroll pause").message == (
        "`help`: expected at most one command name, got 2 (e.g. `help enroll`)"
    )


def test_long_arguments_are_shortened_in_messages_but_kept_whole() -> None:
    long = "x" * 300
    err = error(long)
    assert err.argument == long
    assert len(err.message) < 120 and "…" in err.message


def test_error_is_a_value_error_whose_str_is_the_message() -> None:
    err = error("pause")
    assert isinstance(err, ValueError)
    assert str(err) == err.message


# --------------------------------------------------------------------------- forgiving input


def test_empty_input_and_bare_prefix_give_the_overview() -> None:
    for text in ("", "   ", "journey", "JOURNEY  ", "/journey"):
        assert parse(text) == Help()


@pytest.mark.parametrize("word", ["help", "--help", "-h", "?", "HELP"])
def test_asking_for_help_on_a_command(word: str) -> None:
    assert parse(f"enroll {word}") == Help("enroll")
    assert parse(f"journey pause {word}") == Help("pause")


def test_separators_whitespace_and_case() -> None:
    cmd = parse("\u00a0 journey  ENROLL active-listening @a,@b;@c\n MANAGER\t@d ")
    assert isinstance(cmd, Enroll)
    assert [u.value for u in cmd.users] == ["a", "b", "c"]
    assert cmd.manager == UserRef("name", "d")
    assert error("pause <user:U1><user:U2>").message == "`pause`: expected exactly one user, got 2"


def test_journey_is_stripped_only_as_the_first_word() -> None:
    assert parse("journeys") == Journeys()
    assert parse("journey journeys") == Journeys()
    assert error("journey journey").message.startswith("unknown command 'journey'")


# --------------------------------------------------------------------------- help


def test_help_has_usage_and_an_example_for_every_command() -> None:
    assert set(HELP) == set(COMMANDS)
    for name, text in HELP.items():
        assert text.startswith(f"`{name}"), name
        example = re.search(r"Example: `([^`]+)`", text)
        assert example, name
        parsed = parse(example.group(1))
        assert type(parsed).command == name


def test_help_overview_lists_every_command_with_a_description() -> None:
    text = help_text()
    assert help_text(None) == text == help_text("  ")
    for name in COMMANDS:
        line = next(l for l in text.splitlines() if l.startswith(f"• `{name}"))
        assert " — " in line and len(line.split(" — ", 1)[1]) > 5


def test_help_for_one_command() -> None:
    assert help_text("enroll") == HELP["enroll"] == help_text(" ENROLL ")
    assert "manager <user>" in help_text("enroll")
    with pytest.raises(CommandError) as info:
        help_text("enrol")
    assert "did you mean 'enroll'" in info.value.message


# --------------------------------------------------------------------------- properties


def test_the_module_is_pure() -> None:
    source = inspect.getsource(commands)
    for forbidden in ("import os", "open(", ".today()", ".now(", "time.time", "import logging"):
        assert forbidden not in source, forbidden


_WORDS = [
    *COMMANDS,
    "journey",
    "/journey",
    "manager",
    "start",
    "event",
    "cohort",
    "csv",
    "list",
    "add",
    "remove",
    "MANAGER",
    "help",
    "2026-03-02",
    "2026-13-01",
    "2025-01-01",
    "9999-99-99",
    "0000-01-01",
    "workshop",
    "active-listening",
    "X!",
    "@ana",
    "@ben",
    "@",
    "<user:U1>",
    "<user:U1|a b>",
    "<user:>",
    "<user:",
    "<",
    ">",
    "<mailto:a@b.com|a@b.com>",
    "<mailto:",
    "a@b.com",
    "a@",
    "@@",
    ",",
    ";",
    "5",
    "0",
    "-1",
    "99999999999999999999",
    "<#C1|x>",
    "<!here>",
    "\u00a0",
    "é",
    "٣",
    "|",
]


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_random_text_raises_only_command_error(text: str) -> None:
    try:
        cmd = parse(text)
    except CommandError as exc:
        assert exc.message and isinstance(exc.message, str)
        assert exc.argument is None or isinstance(exc.argument, str)
    else:
        assert type(cmd).command in COMMANDS


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.sampled_from(_WORDS) | st.text(max_size=8), max_size=12),
    st.sampled_from([" ", ", ", "  ", "\t", ""]),
    st.dates(),
)
def test_token_soup_raises_only_command_error(words: list[str], sep: str, today: date) -> None:
    try:
        parse_command(sep.join(words), today)
    except CommandError as exc:
        assert exc.message


_user_tokens = st.one_of(
    st.from_regex(r"\A<user:[UW][A-Z0-9]{2,10}>\Z").map(lambda t: (t, UserRef("mention", t[6:-1]))),
    st.from_regex(r"\A29:[a-zA-Z0-9_-]{3,12}\Z").map(lambda v: (f"<user:{v}>", UserRef("mention", v))),
    st.from_regex(r"\A[a-z][a-z0-9.]{0,8}[a-z0-9]@example\.org\Z")
    .filter(lambda e: ".." not in e and ".@" not in e)
    .map(lambda e: (e, UserRef("email", e))),
    st.from_regex(r"\A[A-Za-z0-9._-]{1,12}\Z").map(lambda n: (f"@{n}", UserRef("name", n))),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_user_tokens, min_size=2, max_size=8, unique_by=lambda t: t[1]),
    st.integers(-GRACE_DAYS, 366),
    st.dictionaries(
        st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,10}\Z"), st.integers(0, 300), max_size=3
    ),
    st.sampled_from(["", "journey ", "/journey "]),
)
def test_well_formed_enrollments_round_trip(
    users: list[tuple[str, UserRef]], offset: int, events: dict[str, int], prefix: str
) -> None:
    *participants, (manager_token, manager) = users
    start = TODAY + timedelta(days=offset)
    text = (
        f"{prefix}enroll active-listening {', '.join(t for t, _ in participants)} "
        f"manager {manager_token} start {start.isoformat()}"
        + "".join(
            f" event {n} {(TODAY + timedelta(days=d)).isoformat()}" for n, d in events.items()
        )
    )
    assert parse(text) == Enroll(
        "active-listening",
        tuple(ref for _, ref in participants),
        manager,
        start,
        {n: TODAY + timedelta(days=d) for n, d in events.items()},
        None,
    )


@pytest.mark.parametrize("text,argument,words", [
    ("interviews", None, "missing cohort name"),
    ("interview @ana", None, "missing agreed, declined or a classification"),
    ("interview @ana sucess", "sucess", "did you mean 'success'"),
    ("interview @ana success value six", "six", "is not a number of units"),
    ("interview @ana success value -1", "-1", "is not a number of units"),
    ("interview @ana success value nan", "nan", "is not a number of units"),
    ("interview @ana success outcome Bad!", "Bad!", "is not an outcome id"),
    ("interview @ana success outcome", "outcome", "missing a value after `outcome`"),
    ("interview @ana success because", "because", "expected `outcome <id>` or `value <units>`"),
    ("interview @ana agreed now", "now", "expected nothing after `agreed`"),
])
def test_interview_commands_name_the_wrong_argument(text: str, argument: str | None, words: str) -> None:
    err = error(text)
    assert words in err.message and err.argument == argument


# --------------------------------------------------------------------------- report recommendations


def test_report_recommendations_show_set_and_reset() -> None:
    assert parse("report spring-leads recommendations") == Report("spring-leads", recommendations="show")
    assert parse("/journey report spring-leads Recommendations reset") == Report("spring-leads",
                                                                                recommendations="reset")
    # the text is kept as typed: commas, semicolons, line breaks and <angle brackets> would be lost as tokens
    typed_text = "Ask managers, first; then <!channel> *leads*\nSecond line: 3 expired"
    assert parse(f"report spring-leads recommendations set {typed_text}") == Report(
        "spring-leads", recommendations="set", text=typed_text)
    assert parse("report recommendations recommendations set x") == Report("recommendations",
                                                                           recommendations="set", text="x")


def test_report_recommendations_errors_name_what_is_wrong() -> None:
    assert error("report spring-leads recommendations set").message.startswith(
        "`report`: missing the text after `set` (e.g. `report spring-leads recommendations set ")
    assert error("report spring-leads recommendations set   \n ").message.startswith("`report`: missing the text")
    assert error("report spring-leads recommendations edit this").message == (
        "`report`: unexpected 'edit' (expected `set <text>`, `reset` or nothing after `recommendations`)")
    assert error("report spring-leads recommendations reset now").message == (
        "`report`: unexpected 'now' (`recommendations reset` takes nothing more)")
    long = "x" * (commands.RECOMMENDATIONS_MAX + 1)
    assert error(f"report spring-leads recommendations set {long}").message == (
        f"`report`: the text is {commands.RECOMMENDATIONS_MAX + 1} characters; at most "
        f"{commands.RECOMMENDATIONS_MAX} fit")
