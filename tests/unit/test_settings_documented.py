"""Every setting the settings class reads is in README's Configuration table and in `.env.example`,
and neither names a variable the class does not read (a renamed or removed setting fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`")


def settings_names() -> set[str]:
    return {str(f.alias) for f in Settings.model_fields.values()}


def readme_table_names() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def env_example_names() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]+)=.*", line.strip())
        if m:
            names.add(m.group(1))
    return names


def test_readme_configuration_table_lists_exactly_the_settings() -> None:
    documented, read = readme_table_names(), settings_names()
    assert read - documented == set(), "settings missing from README's Configuration table"
    assert documented - read == set(), "README's Configuration table names variables nothing reads"


def test_env_example_lists_exactly_the_settings() -> None:
    listed, read = env_example_names(), settings_names()
    assert read - listed == set(), "settings missing from .env.example"
    assert listed - read == set(), ".env.example names variables nothing reads"


def test_env_example_as_shipped_loads_with_the_defaults(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Copied to .env unchanged, it starts nothing in production and changes no default."""
    monkeypatch.chdir(tmp_path)
    for name in settings_names():
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    assert Settings().model_dump() == Settings(_env_file=None).model_dump()  # type: ignore[call-arg]
