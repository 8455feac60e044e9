"""`hplj` behaves like a good command-line tool: `--version`, installable shell completion, and
help texts that show every column name (rich's renderer must not eat `[bracketed]` words)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import typer

from bot.app.cli import app

ROOT = Path(__file__).resolve().parents[2]


def hplj(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "240", "TERM": "dumb"}
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], capture_output=True, text=True, env=env,
                          check=False, timeout=120)


def commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command under `group` (typer's own command classes), with its path of names."""
    out = [(path, group)]
    if isinstance(getattr(group, "commands", None), dict):
        for name, sub in group.commands.items():
            out.extend(commands(sub, (*path, name)))
    return out


def test_version_is_the_installed_package_version() -> None:
    r = hplj("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"hplj {version('hplj-bot')}", r.stdout + r.stderr


def test_shell_completion_can_be_shown_and_installed() -> None:
    r = hplj("--help")
    assert "--install-completion" in r.stdout and "--show-completion" in r.stdout
    script = Path(sys.executable).parent / "hplj"  # the installed entry point names the completion
    # run from bash, as a person would: the completion names the shell it is started from (a
    # detached process has none to detect); `; exit` keeps bash from exec'ing the command itself
    r = subprocess.run(["bash", "-c", '"$0" --show-completion; exit $?', str(script)], capture_output=True,
                       text=True, timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and "_HPLJ_COMPLETE=complete_bash" in r.stdout and "complete -o default" in r.stdout


def test_every_help_text_shows_its_bracketed_column_names() -> None:
    root = typer.main.get_command(app)
    checked = 0
    for path, command in commands(root):
        wanted = {w for p in command.params for w in re.findall(r"\[[^\]\s]+\]", getattr(p, "help", None) or "")}
        wanted |= set(re.findall(r"\[[^\]\s]+\]", command.help or ""))
        if not wanted:
            continue
        # the source escapes them for rich (\[...]); what the reader sees is the bare [name]
        wanted = {w.replace("\\", "") for w in wanted}
        shown = hplj(*path, "--help").stdout.replace("\\", "")
        for word in wanted:
            assert word in shown, (path, word, shown)
        checked += len(wanted)
    assert checked >= 14  # enroll's 6 and people sync's 8 optional columns at least


def test_enroll_help_names_the_optional_columns() -> None:
    shown = hplj("enroll", "--help").stdout
    for column in ("[timezone]", "[country]", "[cohort]", "[manager_manager_email]", "[event:<id>]"):
        assert column in shown, shown
    assert "--platform" in shown and "--dry-run" in shown and "--all-or-nothing" in shown
