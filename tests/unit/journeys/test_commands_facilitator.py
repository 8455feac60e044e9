"""`enroll … facilitator <user>`: the cohort's workshop facilitator, with participants or alone."""

from __future__ import annotations

from datetime import date

import pytest

from journeys.admin.commands import (
    AUTO_MANAGER,
    CommandError,
    Enroll,
    UserRef,
    help_text,
    parse_command,
)

TODAY = date(2026, 3, 1)


def parse(text: str) -> Enroll:
    cmd = parse_command(text, TODAY)
    assert isinstance(cmd, Enroll)
    return cmd


def error(text: str) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse_command(text, TODAY)
    return info.value


def test_facilitator_with_participants_and_alone() -> None:
    cmd = parse("enroll active-listening @ana @bo manager @ben facilitator @fay cohort spring-leads")
    assert cmd.users == (UserRef("name", "ana"), UserRef("name", "bo")) and cmd.manager == UserRef("name", "ben")
    assert cmd.facilitator == UserRef("name", "fay") and cmd.cohort == "spring-leads"
    alone = parse("enroll active-listening facilitator <user:U9|Fay> cohort spring-leads")
    assert alone.users == () and alone.facilitator == UserRef("mention", "U9") and alone.cohort == "spring-leads"
    assert alone.manager == AUTO_MANAGER  # not used: nobody is enrolled
    assert parse("enroll active-listening @ana manager @ben").facilitator is None


@pytest.mark.parametrize(("text", "message", "argument"), [
    ("enroll active-listening @ana manager @ben facilitator", "`facilitator` needs a user", "facilitator"),
    ("enroll active-listening @ana manager @ben facilitator @fay @gil", "expected exactly one facilitator, got 2",
     "@gil"),
    ("enroll active-listening @ana manager @ben facilitator @fay facilitator @gil", "`facilitator` given twice",
     "facilitator"),
    ("enroll active-listening @ana @fay manager @ben facilitator @fay",
     "the facilitator can't also be a participant (@fay)", "@fay"),
    ("enroll active-listening facilitator @fay", "a facilitator without participants needs the cohort", None),
    ("enroll active-listening facilitator @fay manager @ben cohort x",
     "`manager`, `start` and `event` go with participants", "@ben"),
    ("enroll active-listening facilitator @fay start 2026-03-09 cohort x",
     "`manager`, `start` and `event` go with participants", None),
    ("enroll active-listening @ana manager @ben facilitatr @fay", "did you mean 'facilitator'?", "facilitatr"),
])
def test_facilitator_errors_name_the_argument(text: str, message: str, argument: str | None) -> None:
    err = error(text)
    assert message in err.message and err.message.startswith("`enroll`: ")
    assert err.argument == argument


def test_help_documents_it() -> None:
    assert "facilitator <user>" in help_text("enroll")
    assert "never names or what people wrote" in help_text("enroll")
