"""The outbox payload's JSON (store/hotpath.py `dataclass_json`, generated per class) is byte for
byte `json.dumps(dataclasses.asdict(message))`, the text SQLAlchemy's JSON type would store."""

from __future__ import annotations

import json
from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from journeys.messages import Button, FormField, Link, Message, Option
from store.hotpath import dataclass_json, sqlite_json

TEXT = st.text(max_size=20)
OPTIONS = st.lists(st.builds(Option, TEXT, TEXT), max_size=3).map(tuple)
FIELDS = st.lists(st.builds(FormField, TEXT, TEXT, st.sampled_from(["text", "choice", "rating"]), OPTIONS,
                            st.booleans(), TEXT, st.one_of(st.none(), TEXT), st.lists(TEXT, max_size=2).map(tuple),
                            st.integers(0, 10)), max_size=2).map(tuple)
BUTTONS = st.lists(st.builds(Button, TEXT, TEXT, st.sampled_from(["primary", "danger", "default"]),
                             st.one_of(st.none(), TEXT)), max_size=3).map(tuple)
MESSAGES = st.builds(
    Message, TEXT, TEXT, title=TEXT, journey_title=TEXT, prompt_id=st.one_of(st.none(), TEXT), buttons=BUTTONS,
    fields=FIELDS, form_label=TEXT, links=st.lists(st.builds(Link, TEXT, TEXT), max_size=2).map(tuple),
    context=TEXT, facts=st.lists(st.tuples(TEXT, TEXT), max_size=2).map(tuple), closed=st.booleans(),
    audience=st.sampled_from(["participant", "manager", "admin"]), attachment_name=TEXT, attachment_text=TEXT,
    dated=st.lists(st.tuples(TEXT, TEXT), max_size=2).map(tuple), dated_on=TEXT, dated_in=TEXT,
    told=st.lists(TEXT, max_size=2).map(tuple))


@given(MESSAGES)
def test_a_message_is_written_as_json_dumps_of_asdict(message: Message) -> None:
    expected = json.dumps(asdict(message))
    assert dataclass_json(message) == expected
    assert sqlite_json(message) == expected
    assert dataclass_json(message) == expected  # the tuples' cached JSON too


@given(st.dictionaries(TEXT, st.one_of(st.none(), st.booleans(), st.integers(), TEXT, st.lists(TEXT, max_size=2))))
def test_other_values_are_written_as_json_dumps(value: dict[str, object]) -> None:
    assert sqlite_json(value) == json.dumps(value)
    assert sqlite_json([value]) == json.dumps([value])


SMALL = st.dictionaries(st.sampled_from(["step", "n", "why", "1"]),
                        st.one_of(st.sampled_from(["focus-situation", "started", "1", ""]), st.booleans(),
                                  st.sampled_from([0, 1]), st.none(), TEXT), max_size=2)


@given(st.lists(SMALL, min_size=1, max_size=6))
def test_small_dicts_kept_once_are_json_dumps_of_each(values: list[dict[str, object]]) -> None:
    """An event's data (`{"step": ...}`) is encoded once per process: equal-looking dicts with 1
    and True, or keys in another order, still get their own text."""
    for v in values + values[::-1]:
        assert sqlite_json(v) == json.dumps(v)
