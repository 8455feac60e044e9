"""The Teams app package: `adapters/teams/manifest/manifest.json` + two icons, zipped for upload.

    build_app_package("dist/hplj-teams.zip", app_id="<Microsoft App ID>", domain="hplj.example.org")

The template and icons are package data (they ship in the wheel), so `hplj teams package` works
from an installed package as well as from a checkout.

The manifest in the repository carries placeholders that the package build replaces:
`id` and `bots[0].botId` are GUID-shaped placeholders (`PLACEHOLDER_APP_ID`), and
`hplj.example.com` stands for the domain the bot is served from (`validDomains`, developer
URLs). The icons are generated with plain zlib/struct (`write_icons`): a 192x192 full-colour
icon and a 32x32 white-on-transparent outline icon, as Teams requires.

Run `python -m adapters.teams.package --icons` to regenerate the icons; `hplj teams package`
(bot/app/teams_cli.py) builds a package with `build_app_package`.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

MANIFEST_DIR = Path(__file__).resolve().parent / "manifest"
MANIFEST_SCHEMA = "1.19"  # the newest manifest schema the Teams platform documents
PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DOMAIN = "hplj.example.com"
ACCENT = (0x44, 0x64, 0xEE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(\*\.)?([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}(:\d{1,5})?$")


# ---- PNG, without PIL ----------------------------------------------------------------------

def png_bytes(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """An RGBA PNG whose pixel (x, y) is `pixel(x, y)`."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows.extend(bytes(pixel(x, y)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _journey_shape(size: int) -> Callable[[float, float], bool]:
    """Three stops on a rising path: the journey mark, scaled to `size`."""
    stops = [(0.25, 0.72), (0.5, 0.5), (0.75, 0.28)]
    radius = 0.11
    width = 0.05

    def on_segment(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
        ax, ay = a
        bx, by = b
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        cx, cy = ax + t * dx, ay + t * dy
        return float(((px - cx) ** 2 + (py - cy) ** 2) ** 0.5)

    def inside(x: float, y: float) -> bool:
        px, py = (x + 0.5) / size, (y + 0.5) / size
        if any(((px - sx) ** 2 + (py - sy) ** 2) ** 0.5 <= radius for sx, sy in stops):
            return True
        return any(on_segment(px, py, stops[i], stops[i + 1]) <= width for i in range(len(stops) - 1))

    return inside


def color_icon() -> bytes:
    size = 192
    inside = _journey_shape(size)
    r, g, b = ACCENT
    return png_bytes(size, size, lambda x, y: (255, 255, 255, 255) if inside(x, y) else (r, g, b, 255))


def outline_icon() -> bytes:
    size = 32
    inside = _journey_shape(size)
    return png_bytes(size, size, lambda x, y: (255, 255, 255, 255) if inside(x, y) else (0, 0, 0, 0))


def write_icons(directory: Path = MANIFEST_DIR) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    color = directory / "color.png"
    outline = directory / "outline.png"
    color.write_bytes(color_icon())
    outline.write_bytes(outline_icon())
    return color, outline


# ---- the package ---------------------------------------------------------------------------

def load_manifest(source_dir: Path = MANIFEST_DIR) -> dict[str, Any]:
    path = source_dir / "manifest.json"
    if not path.exists():
        raise FileNotFoundError(f"Teams manifest template not found at {path} (reinstall hplj-bot)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def fill_manifest(manifest: dict[str, Any], *, app_id: str, domain: str, teams_app_id: str | None = None,
                  version: str | None = None) -> dict[str, Any]:
    """The manifest with its placeholders replaced (returns a new dict)."""
    if not _GUID.match(app_id or ""):
        raise ValueError(f"app_id must be the bot's Microsoft App ID (a GUID), not {app_id!r}")
    if app_id == PLACEHOLDER_APP_ID:
        raise ValueError("app_id is still the placeholder; use the bot's Microsoft App ID")
    teams_app_id = teams_app_id or app_id
    if not _GUID.match(teams_app_id):
        raise ValueError(f"teams_app_id must be a GUID, not {teams_app_id!r}")
    if not _DOMAIN.match(domain or ""):
        raise ValueError(f"domain must be a host name like bot.example.org (no scheme, no path), not {domain!r}")
    text = json.dumps(manifest).replace(PLACEHOLDER_DOMAIN, domain)
    out: dict[str, Any] = json.loads(text)
    out["id"] = teams_app_id
    for bot in out.get("bots", []):
        bot["botId"] = app_id
    if "webApplicationInfo" in out:
        out["webApplicationInfo"]["id"] = app_id
    if version:
        out["version"] = version
    return out


def build_app_package(out_path: str | Path, *, app_id: str, domain: str, teams_app_id: str | None = None,
                      version: str | None = None, source_dir: Path = MANIFEST_DIR) -> Path:
    """Zip `manifest.json` (placeholders replaced) and the two icons at the archive's root."""
    manifest = fill_manifest(load_manifest(source_dir), app_id=app_id, domain=domain,
                             teams_app_id=teams_app_id, version=version)
    icons = manifest["icons"]
    files: dict[str, bytes] = {}
    for key, expected in (("color", (192, 192)), ("outline", (32, 32))):
        name = icons[key]
        path = source_dir / name
        data = path.read_bytes() if path.exists() else (color_icon() if key == "color" else outline_icon())
        if png_size(data) != expected:
            raise ValueError(f"{name} must be {expected[0]}x{expected[1]}, is {png_size(data)}")
        files[name] = data
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--icons"]:
        for p in write_icons():
            print(p)
        return 0
    print("usage: python -m adapters.teams.package --icons   (to build a package: hplj teams package)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
