"""The journey JSON Schema as an editor uses it: the sample names it on its first line, its `$id`
is the URL `hplj serve` answers it at, every field is described, and a bad step of each kind
gets an error about that kind (if/then on `kind`), not "not valid under any of the given schemas"."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from journeys.schema import SCHEMA_PATH, journey_json_schema

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "journeys" / "library"
MINIMAL = ROOT / "tests" / "fixtures" / "journeys" / "valid" / "minimal.yml"
URL = "https://hplj.contoso.org" + SCHEMA_PATH


def as_json(path: Path) -> dict[str, Any]:
    # YAML 1.1 reads bare times as numbers; the loader keeps them as text, so do the same here.
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))  # type: ignore[no-any-return]


def errors(doc: dict[str, Any]) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft202012Validator(journey_json_schema(URL)).iter_errors(doc))


def walk(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every `properties` map in the schema, with where it is."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.append((path, node["properties"]))
        for key, value in node.items():
            found.extend(walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(walk(value, f"{path}/{i}"))
    return found


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.yml")), ids=lambda p: p.name)
def test_every_library_journey_names_the_served_schema_on_its_first_line(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(https?://[^/\s]+)(/\S*)", first)
    assert m is not None, first
    assert m.group(2) == SCHEMA_PATH
    assert not errors(as_json(path))


def test_the_id_is_the_url_it_is_served_at() -> None:
    schema = journey_json_schema(URL)
    assert schema["$id"] == URL and schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "discriminator" not in json.dumps(schema)  # OpenAPI's keyword: validators and editors ignore it


def test_every_property_has_a_description() -> None:
    missing = [f"{where}/{name}" for where, props in walk(journey_json_schema(URL)) for name, prop in props.items()
               if not (isinstance(prop, dict) and str(prop.get("description", "")).strip())]
    assert missing == []
    assert len(walk(journey_json_schema(URL))) >= 25  # every model's fields were looked at


BAD_STEPS = {
    "message": ({"id": "s", "kind": "message", "when": "start 09:30"}, "'text' is a required property"),
    "question": ({"id": "s", "kind": "question", "text": "How?", "when": "start 09:30"},
                 "'answer' is a required property"),
    "mtm_plan": ({"id": "s", "kind": "mtm_plan", "text": "Plan", "when": "start 09:30"},
                 "'practice' is a required property"),
    "mtm_follow_up": ({"id": "s", "kind": "mtm_follow_up", "text": "How did it go?", "when": "mtm+1 09:30"},
                      "'for_mtm' is a required property"),
    "manager_task": ({"id": "s", "kind": "manager_task", "text": "Meet", "when": "start 09:30", "practice": "real"},
                     "Additional properties are not allowed ('practice' was unexpected)"),
    "manager_request": ({"id": "s", "kind": "manager_request", "text": "Support", "for_mtm": "plan"},
                        "'coach_guide' is a required property"),
    "survey": ({"id": "s", "kind": "survey", "text": "Tell us", "when": "start+20 10:00", "questions": []},
               "[] should be non-empty"),
}


@pytest.mark.parametrize("kind", sorted(BAD_STEPS))
def test_a_bad_step_of_each_kind_gets_a_precise_error(kind: str) -> None:
    step, expected = BAD_STEPS[kind]
    doc = as_json(MINIMAL)
    doc["steps"].append(step)
    where = len(doc["steps"]) - 1
    found = errors(doc)
    assert found, kind
    best = jsonschema.exceptions.best_match(found)
    assert expected in best.message, (kind, best.message)
    assert list(best.absolute_path)[:2] == ["steps", where]
    assert not any("is not valid under any of the given schemas" in e.message for e in found)


def test_an_unknown_kind_lists_the_kinds() -> None:
    doc = as_json(MINIMAL)
    doc["steps"].append({"id": "s", "kind": "poll", "text": "x"})
    best = jsonschema.exceptions.best_match(errors(doc))
    assert "'poll' is not one of" in best.message and "mtm_plan" in best.message
