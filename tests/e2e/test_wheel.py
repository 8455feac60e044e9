"""The package as a user installs it: a wheel built from this checkout (no deprecation banners,
an SPDX licence and the LICENSE file), installed into a fresh virtual environment, builds the
Teams app package with `hplj teams package` from its own package data; the manifest validates
against the Teams manifest schema 1.19."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adapters.teams.package import png_size
from tests.unit.adapters.teams.teams_card_schema import assert_valid_manifest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def run(*cmd: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600, check=False,
                       env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(the temporary venv's bin folder, the wheel, the build log)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # a copy of the checkout: the build leaves no build/ folder behind, and none left over is used
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info",
                                                             "__pycache__", "tests", "bench", "*.db*"))
    build = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v", src,
                "-w", tmp / "dist", cwd=tmp)
    [wheel] = (tmp / "dist").glob("hplj_bot-*.whl")
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index",
        wheel, cwd=tmp)
    # The dependencies come from this test run's environment, appended after the venv's own
    # site-packages (a plain path line: the editable install's hook there is not run, so `bot`,
    # `adapters`... are imported from the wheel).
    [own] = (venv / "lib").glob("python3*/site-packages")
    (own / "zz_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv / "bin", wheel, build.stdout + build.stderr


def test_the_wheel_has_an_spdx_licence_the_licence_file_and_no_deprecation_banner(installed) -> None:
    _, wheel, log = installed
    assert "deprecat" not in log.lower(), [ln for ln in log.splitlines() if "eprecat" in ln]
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        licence = zf.read(next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert (ROOT / "LICENSE").read_text() == licence
    for name in ("manifest.json", "color.png", "outline.png"):
        assert f"adapters/teams/manifest/{name}" in names


def test_teams_package_builds_from_the_installed_wheel(installed, tmp_path: Path) -> None:
    bindir, _, _ = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MICROSOFT_APP_ID", "HPLJ_PUBLIC_URL")}
    where = run(bindir / "python", "-c", "import adapters.teams.package as p; print(p.__file__)", cwd=tmp_path,
                env=env).stdout
    assert str(bindir.parent) in where and str(ROOT) not in where  # the wheel's copy, not this checkout
    r = run(bindir / "hplj", "teams", "package", "--app-id", APP_ID, "--domain", "bot.contoso.org", "--out",
            tmp_path / "out" / "hplj-teams.zip", cwd=tmp_path, env=env)
    assert "manifest 1.19" in r.stdout
    with zipfile.ZipFile(tmp_path / "out" / "hplj-teams.zip") as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert png_size(zf.read("color.png")) == (192, 192) and png_size(zf.read("outline.png")) == (32, 32)
    assert_valid_manifest(manifest)
    assert manifest["manifestVersion"] == "1.19" and "/v1.19/" in manifest["$schema"]
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["privacyUrl"] == "https://bot.contoso.org/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://bot.contoso.org/terms"
    assert "hplj.example.com" not in json.dumps(manifest)

    # from the settings, and a bad App ID named by its option
    r = run(bindir / "hplj", "teams", "package", "--out", tmp_path / "b.zip", cwd=tmp_path,
            env={**env, "MICROSOFT_APP_ID": APP_ID, "HPLJ_PUBLIC_URL": "https://hplj.contoso.org"})
    assert "at hplj.contoso.org" in r.stdout
    bad = subprocess.run([str(bindir / "hplj"), "teams", "package", "--app-id", "nope", "--domain", "x.org"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "--app-id" in bad.stderr and "Traceback" not in bad.stderr
