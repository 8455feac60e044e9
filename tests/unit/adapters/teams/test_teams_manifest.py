"""The Teams app manifest and package: schema-valid, icons of the right size, placeholders replaced."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from teams_card_schema import assert_valid_manifest, manifest_validators

from adapters.teams.package import (
    MANIFEST_DIR,
    PLACEHOLDER_APP_ID,
    PLACEHOLDER_DOMAIN,
    build_app_package,
    color_icon,
    fill_manifest,
    load_manifest,
    outline_icon,
    png_size,
)
from journeys.admin.help_surface import PARTICIPANT_COMMANDS

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def pixels(png: bytes) -> list[tuple[int, int, int, int]]:
    """RGBA pixels of our (unfiltered, 8-bit RGBA) PNGs."""
    width, height = png_size(png)
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    out = []
    stride = 1 + width * 4
    for y in range(height):
        row = raw[y * stride + 1:(y + 1) * stride]
        out.extend(tuple(row[i:i + 4]) for i in range(0, len(row), 4))
    return out  # type: ignore[return-value]


def test_repository_manifest_validates_against_the_schema() -> None:
    manifest = load_manifest()
    assert_valid_manifest(manifest)
    assert manifest["manifestVersion"] == "1.19"
    [bot] = manifest["bots"]
    assert bot["scopes"] == ["personal"] and bot["botId"] == PLACEHOLDER_APP_ID
    # the menu is the participant's: what anyone may type; admin commands stay typed (journey help)
    [menu] = bot["commandLists"]
    titles = [c["title"] for c in menu["commands"]]
    assert titles == [word for word, _ in PARTICIPANT_COMMANDS]
    assert not set(titles) & {"forget", "export", "enroll", "unenroll", "report", "dashboard", "journeys"}
    assert "journey" not in " ".join(titles)
    assert manifest["validDomains"] == [PLACEHOLDER_DOMAIN]


def test_schema_check_is_not_toothless() -> None:
    manifest = load_manifest()
    manifest["manifestVersion"] = "1.5"  # `const` in a draft-04 schema: caught by the draft-07 pass
    assert any(list(v.iter_errors(manifest)) for v in manifest_validators())
    manifest = load_manifest()
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    commands.extend({"title": f"extra {i}", "description": "x"} for i in range(11 - len(commands)))
    assert any(list(v.iter_errors(manifest)) for v in manifest_validators())  # at most 10 commands


def test_icons_in_the_repository() -> None:
    color = (MANIFEST_DIR / "color.png").read_bytes()
    outline = (MANIFEST_DIR / "outline.png").read_bytes()
    assert png_size(color) == (192, 192) and color == color_icon()
    assert png_size(outline) == (32, 32) and outline == outline_icon()
    assert all(a == 255 for *_, a in pixels(color))  # full colour, opaque
    outline_px = pixels(outline)
    assert {(r, g, b) for r, g, b, a in outline_px if a} == {(255, 255, 255)}  # white ...
    assert any(a == 0 for *_, a in outline_px)  # ... on transparent


def test_build_app_package(tmp_path: Path) -> None:
    out = build_app_package(tmp_path / "pkg" / "hplj-teams.zip", app_id=APP_ID, domain="bot.contoso.org")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert png_size(zf.read("color.png")) == (192, 192)
        assert png_size(zf.read("outline.png")) == (32, 32)
    assert_valid_manifest(manifest)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.contoso.org"]
    assert manifest["developer"]["privacyUrl"] == "https://bot.contoso.org/privacy"
    assert PLACEHOLDER_APP_ID not in json.dumps(manifest) and PLACEHOLDER_DOMAIN not in json.dumps(manifest)


@pytest.mark.parametrize(
    ("app_id", "domain"),
    [("not-a-guid", "bot.contoso.org"), (PLACEHOLDER_APP_ID, "bot.contoso.org"),
     (APP_ID, "https://bot.contoso.org"), (APP_ID, "bot.contoso.org/path"), (APP_ID, "")],
)
def test_bad_package_arguments_are_refused(app_id: str, domain: str) -> None:
    with pytest.raises(ValueError):
        fill_manifest(load_manifest(), app_id=app_id, domain=domain)
