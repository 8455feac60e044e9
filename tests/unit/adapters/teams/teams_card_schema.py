"""Validate Adaptive Cards and the Teams manifest against the schemas in tests/fixtures/schemas.

The card schema is draft-06; the manifest schema declares draft-04 but uses `const`
(`manifestVersion`), which draft-04 validators ignore, so the manifest is also checked with a
draft-07 validator. jsonschema checks `uri` formats only with optional packages installed, so a
small checker is registered here for `uri` and `uri-reference`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

ROOT = Path(__file__).resolve().parents[4]
SCHEMAS = ROOT / "tests" / "fixtures" / "schemas"
CARD_SCHEMA = SCHEMAS / "adaptive-card-1.5.json"
MANIFEST_SCHEMA = SCHEMAS / "teams-manifest-1.19.json"


def _formats() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker()

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and not any(c.isspace() for c in value)

    @checker.checks("uri-reference", raises=ValueError)
    def _uri_ref(value: object) -> bool:
        if not isinstance(value, str):
            return True
        urlsplit(value)
        return not any(c.isspace() for c in value)

    return checker


@cache
def card_validator() -> jsonschema.Draft6Validator:
    schema = json.loads(CARD_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema, format_checker=_formats())


@cache
def manifest_validators() -> tuple[jsonschema.Draft4Validator, jsonschema.Draft7Validator]:
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    return (
        jsonschema.Draft4Validator(schema, format_checker=_formats()),
        jsonschema.Draft7Validator(schema, format_checker=_formats()),
    )


def assert_valid_card(card: dict[str, Any]) -> None:
    errors = sorted(card_validator().iter_errors(card), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])


def assert_valid_manifest(manifest: dict[str, Any]) -> None:
    for validator in manifest_validators():
        errors = list(validator.iter_errors(manifest))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
