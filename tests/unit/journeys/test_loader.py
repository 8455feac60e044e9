"""The journey loader: every problem of a file at once, each at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeys.definition import Journey
from journeys.loader import (
    JourneyError,
    JourneyFileError,
    default_library_path,
    journey_json_schema,
    load_journey_file,
    load_journey_text,
    load_library,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "journeys"
BROKEN = FIXTURES / "broken"
MINIMAL = FIXTURES / "valid" / "minimal.yml"

# file -> every error expected in it: (line, column, key, a fragment of the message).
# Checked by hand against the fixture files: lines and columns are 1-based; a value error points
# at a scalar value, an unknown/duplicate key at the key, a missing key at the parent mapping.
EXPECTED: dict[str, set[tuple[int, int, str, str]]] = {
    "yaml_syntax.yml": {(2, 17, "", "mapping values are not allowed here")},
    "unknown_top_key.yml": {(8, 1, "calender", "unknown key 'calender'")},
    "unknown_step_kind.yml": {(10, 11, "steps[0].kind", "unknown step kind 'mesage'")},
    "missing_key.yml": {(13, 5, "steps[1]", "missing required key 'answer'")},
    "duplicate_step_id.yml": {(13, 9, "steps[1].id", "duplicate step id 'welcome'")},
    "unknown_event.yml": {(14, 11, "steps[0].when", "unknown event 'workshp'")},
    "bad_when.yml": {(12, 11, "steps[0].when", "got 'tomorrow at 9am'")},
    "for_mtm_not_plan.yml": {(15, 14, "steps[1].for_mtm", "'welcome' is not an mtm_plan step")},
    "escalate_without_reminders.yml": {(14, 18, "steps[0].escalate_to", "add 'reminders:'")},
    "bad_timezone.yml": {(9, 13, "calendar.timezone", "unknown IANA time zone 'Europe/Londn'")},
    "duplicate_yaml_key.yml": {
        (13, 5, "steps[0].text", "duplicate key 'text' (first given at line 11)")
    },
    "rating_without_scale.yml": {
        (9, 5, "steps[0].scale", "a rating needs 'scale: 5' or 'scale: 10'")
    },
    "multi_error.yml": {
        (2, 5, "id", "expected an id"),
        (4, 10, "version", "expected a whole number, got 'one'"),
        (10, 13, "calendar.timezone", "unknown IANA time zone 'Mars/Olympus'"),
        (11, 18, "calendar.working_days[0]", "got 'monday'"),
        (14, 11, "steps[0].kind", "unknown step kind 'mesage'"),
        (19, 15, "steps[1].practice", "expected 'safe' or 'real', got 'sometimes'"),
        (21, 5, "steps[1].remiders", "unknown key 'remiders'"),
        (22, 5, "steps[2]", "missing required key 'answer'"),
        (25, 5, "steps[2].text", "duplicate key 'text'"),
    },
    "multi_cross_reference.yml": {
        (10, 5, "steps[0].when", "a message step needs 'when:'"),
        (13, 9, "steps[1].id", "mtm_plan 'plan' has no mtm_follow_up step"),
        (17, 11, "steps[1].when", "only mtm_follow_up steps can be timed from 'mtm'"),
        (21, 5, "steps[2].options", "needs at least two options"),
        (23, 11, "steps[2].when", "unknown event 'kickoff'"),
        (24, 9, "steps[3].id", "duplicate step id 'plan'"),
        (26, 14, "steps[3].for_mtm", "'nothing' is not an mtm_plan step"),
        (29, 18, "steps[3].escalate_to", "a manager step cannot escalate"),
        (29, 18, "steps[3].escalate_to", "add 'reminders:'"),
    },
}


def errors_of(path: Path) -> list[JourneyError]:
    with pytest.raises(JourneyFileError) as info:
        load_journey_file(path)
    return info.value.errors


def matches(errors: list[JourneyError], expected: set[tuple[int, int, str, str]]) -> bool:
    """Each expected entry matches exactly one error and each error exactly one entry."""
    if len(errors) != len(expected):
        return False
    remaining = list(errors)
    for line, column, key, fragment in sorted(expected):
        found = next(
            (
                e
                for e in remaining
                if (e.line, e.column, e.key) == (line, column, key) and fragment in e.message
            ),
            None,
        )
        if found is None:
            return False
        remaining.remove(found)
    return True


def test_every_broken_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_fixture_reports_exactly_the_expected_errors(name: str) -> None:
    errors = errors_of(BROKEN / name)
    got = "\n".join(str(e) for e in errors)
    assert matches(errors, EXPECTED[name]), got
    assert all(e.file == str(BROKEN / name) for e in errors)
    assert errors == sorted(errors, key=lambda e: (e.line, e.column, e.key, e.message))


def test_multi_error_file_reports_everything_at_once() -> None:
    with pytest.raises(JourneyFileError) as info:
        load_journey_file(BROKEN / "multi_error.yml")
    assert len(info.value.errors) == len(EXPECTED["multi_error.yml"]) == 9
    lines = str(info.value).splitlines()
    assert lines == [str(e) for e in info.value.errors]


def test_unknown_keys_list_the_allowed_keys_and_suggest_the_closest() -> None:
    (top,) = errors_of(BROKEN / "unknown_top_key.yml")
    assert "expected one of: baseline_impact_rate, calendar, description, ending, events, id," in top.message
    assert top.message.endswith("did you mean 'calendar'?")
    remiders = next(
        e for e in errors_of(BROKEN / "multi_error.yml") if e.key == "steps[1].remiders"
    )
    assert "for kind 'mtm_plan'" in remiders.message
    assert "practice" in remiders.message and "did you mean 'reminders'?" in remiders.message


def test_unknown_step_kind_lists_the_kinds() -> None:
    (err,) = errors_of(BROKEN / "unknown_step_kind.yml")
    assert (
        "expected one of: message, question, mtm_plan, mtm_follow_up, manager_task, manager_request, survey"
        in (err.message)
    )
    assert "did you mean 'message'?" in err.message


def test_error_string_format() -> None:
    err = JourneyError("path/file.yml", 12, 5, "steps[3].when", "expected something")
    assert str(err) == "path/file.yml:12:5: steps[3].when: expected something"
    assert (
        str(JourneyError("f.yml", 1, 1, "", "the file is empty")) == "f.yml:1:1: the file is empty"
    )
    (syntax,) = errors_of(BROKEN / "yaml_syntax.yml")
    assert (
        str(syntax)
        == f"{BROKEN / 'yaml_syntax.yml'}:2:17: YAML syntax error: mapping values are not allowed here"
    )


def test_minimal_valid_journey_loads() -> None:
    journey = load_journey_file(MINIMAL)
    assert isinstance(journey, Journey)
    assert journey.id == "minimal"
    assert {s.kind for s in journey.steps} >= {
        "message",
        "manager_task",
        "mtm_plan",
        "mtm_follow_up",
        "question",
    }
    assert load_journey_text(MINIMAL.read_text(), "x.yml") == journey


# --------------------------------------------------------------------------- YAML-level problems


def one_error(text: str) -> JourneyError:
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(text, "t.yml")
    assert len(info.value.errors) == 1, str(info.value)
    return info.value.errors[0]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "~\n"])
def test_empty_file(text: str) -> None:
    err = one_error(text)
    assert (err.line, err.column, err.key) == (1, 1, "")
    assert "empty" in err.message


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "a list"), ("hello\n", "'hello'")])
def test_document_must_be_a_mapping(text: str, got: str) -> None:
    err = one_error(text)
    assert "must be a mapping" in err.message and got in err.message


def minimal_with(extra: str) -> str:
    return MINIMAL.read_text() + extra


def test_second_document_is_an_error() -> None:
    text = minimal_with("---\nid: other\n")
    err = one_error(text)
    assert err.line == len(MINIMAL.read_text().splitlines()) + 1
    assert "one YAML document" in err.message


def test_custom_and_python_tags_are_rejected() -> None:
    text = MINIMAL.read_text().replace(
        "title: Minimal journey", "title: !!python/object:os.system Minimal"
    )
    err = one_error(text)
    assert err.key == "title" and "!!python/object:os.system" in err.message


def test_merge_keys_are_rejected() -> None:
    err = one_error(minimal_with("<<: {description: x}\n"))
    assert err.key == "<<" and "merge keys" in err.message


def test_recursive_alias_is_reported_not_a_crash() -> None:
    with pytest.raises(JourneyFileError) as info:
        load_journey_text(minimal_with("description: &a [*a]\n"), "t.yml")
    assert any("recursive alias" in e.message for e in info.value.errors)


def test_alias_bomb_is_stopped() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(JourneyFileError) as info:
        load_journey_text("\n".join(lines) + "\n", "bomb.yml")
    assert any("alias bomb" in e.message for e in info.value.errors)


def test_aliases_to_plain_values_are_fine() -> None:
    text = MINIMAL.read_text().replace(
        "reminders: {after: 2, max: 2}", "reminders: &r {after: 2, max: 2}"
    )
    text = text.replace("    text: How did it go?", "    text: How did it go?\n    reminders: *r")
    assert load_journey_text(text, "t.yml").step("reflect").reminders is not None


def test_deep_nesting_is_reported() -> None:
    err = one_error("id: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nest" in err.message


def test_yaml_1_1_surprises_stay_text() -> None:
    """`yes`/`no` stay text (not booleans) and `9:30` stays a time (not the sexagesimal 570)."""
    text = MINIMAL.read_text().replace(
        "  timezone: Europe/London",
        "  timezone: Europe/London\n  working_hours: {start: 8:30, end: 17:00}",
    )
    text = text.replace(
        "    answer: rating\n    scale: 5\n",
        "    answer: choice\n    options: [{value: yes, label: Yes}, {value: no, label: No}]\n",
    )
    journey = load_journey_text(text, "t.yml")
    assert journey.calendar.working_hours.start == "8:30"
    step = journey.step("confidence")
    assert step.kind == "question" and [o.value for o in step.options] == ["yes", "no"]


def test_empty_value_points_at_its_key() -> None:
    text = MINIMAL.read_text().replace("title: Minimal journey", "title:")
    err = one_error(text)
    assert (err.line, err.column, err.key) == (3, 1, "title")
    assert "got nothing" in err.message


def test_step_that_is_not_a_mapping() -> None:
    text = MINIMAL.read_text().replace("steps:\n", "steps:\n  - just text\n")
    err = one_error(text)
    assert err.key == "steps[0]" and "expected a mapping" in err.message


def test_bad_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_bytes(b"id: x\ntitle: caf\xe9\n")
    (err,) = errors_of(path)
    assert (err.line, err.column) == (2, 11) and "UTF-8" in err.message


def test_time_zone_that_names_a_folder_is_a_clean_error() -> None:
    text = MINIMAL.read_text().replace("timezone: Europe/London", "timezone: America")
    err = one_error(text)
    assert err.key == "calendar.timezone"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!?|>'\"#\n\t ,.0123456789%@`")), max_size=80)
)
def test_any_text_gives_a_journey_or_positioned_errors(text: str) -> None:
    try:
        load_journey_text(text, "fuzz.yml")
    except JourneyFileError as exc:
        assert exc.errors
        for e in exc.errors:
            assert e.line >= 1 and e.column >= 1 and e.message


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_deleting_lines_from_a_valid_journey_gives_errors_inside_the_file(
    data: st.DataObject,
) -> None:
    lines = MINIMAL.read_text().splitlines()
    drop = data.draw(st.sets(st.integers(0, len(lines) - 1), min_size=1, max_size=3))
    text = "\n".join(line for i, line in enumerate(lines) if i not in drop) + "\n"
    try:
        load_journey_text(text, "t.yml")
    except JourneyFileError as exc:
        n = len(text.splitlines())
        for e in exc.errors:
            assert 1 <= e.line <= n + 1, str(e)


# ------------------------------------------------------------------------------------- library


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_library_loads_yml_and_yaml_and_ignores_other_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", MINIMAL.read_text())
    write(tmp_path, "b.yaml", MINIMAL.read_text().replace("id: minimal", "id: other"))
    write(tmp_path, "notes.txt", "not yaml: [")
    assert sorted(load_library(tmp_path)) == ["minimal", "other"]


def test_library_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", MINIMAL.read_text())
    second = write(tmp_path, "b.yml", "# the same id again\n" + MINIMAL.read_text())
    with pytest.raises(JourneyFileError) as info:
        load_library(tmp_path)
    (err,) = info.value.errors
    assert (err.file, err.line, err.column, err.key) == (str(second), 3, 5, "id")
    assert "duplicate journey id 'minimal'" in err.message and "a.yml" in err.message


def test_library_aggregates_errors_of_all_files(tmp_path: Path) -> None:
    write(tmp_path, "good.yml", MINIMAL.read_text())
    for name in ("bad_timezone.yml", "yaml_syntax.yml"):
        write(tmp_path, name, (BROKEN / name).read_text())
    with pytest.raises(JourneyFileError) as info:
        load_library(tmp_path)
    assert {Path(e.file).name for e in info.value.errors} == {"bad_timezone.yml", "yaml_syntax.yml"}


def test_default_library_path() -> None:
    path = default_library_path()
    assert path.name == "library" and path.parent.name == "journeys" and path.is_dir()


def test_bundled_library_loads() -> None:
    assert isinstance(load_library(default_library_path()), dict)


# -------------------------------------------------------------------------------------- schema


def test_json_schema_describes_a_journey() -> None:
    schema = journey_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]
    assert {"id", "title", "version", "ppp", "steps"} <= set(schema["required"])
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    jsonschema.validate(yaml.safe_load(MINIMAL.read_text()), schema)
