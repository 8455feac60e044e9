"""The deploy descriptions do what the README says: the lock file is in step with pyproject.toml,
the Procfile's and compose's web process runs no scheduler beside the worker, and the commands
the image runs (migration, web with its HEALTHCHECK, worker) work against a real PostgreSQL.

Where a container runtime works (`docker info` or `podman info` succeeds), the image itself is
built and smoke-tested as well; where none does, that test is skipped and says so."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
import uuid
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fault.conftest import PgCluster, _free_port, postgres_cluster  # noqa: F401 (its fixture)
from tests.serve_process import wait_json

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lock_requirements


def locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#") and line != ".":
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_requirements_lock_was_made_from_the_current_pyproject() -> None:
    header = (ROOT / "requirements.txt").read_text().splitlines()[1]
    assert header == f"# dependencies digest: {lock_requirements.digest()}", \
        "pyproject.toml's dependencies changed: run `make lock`"
    assert (ROOT / "requirements.txt").read_text().splitlines()[-1] == "."  # installs hplj itself


def test_every_dependency_is_pinned_inside_its_range_and_the_lock_is_closed() -> None:
    pins = locked()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in deps:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (text, pins[name])
    # each pinned package's own run-time requirements are pinned too, inside their ranges
    for name, version in pins.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if dist.version != version:
            continue  # this venv has another version: its metadata says nothing about the pin
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is not None and not sub.marker.evaluate({"extra": ""}):
                continue
            sub_name = canonicalize_name(sub.name)
            assert sub_name in pins, f"{name}=={version} needs {sub.name}, which is not in requirements.txt"
            assert sub.specifier.contains(pins[sub_name], prereleases=True), (name, text, pins[sub_name])


def test_the_web_process_runs_no_second_scheduler() -> None:
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert procfile == {"web": "hplj serve --no-scheduler", "worker": "hplj worker", "release": "hplj db upgrade"}
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert compose["web"]["command"] == ["serve", "--no-scheduler"]
    assert compose["worker"]["command"] == ["worker"]
    assert compose["migrate"]["command"] == ["db", "upgrade"]
    for name in ("web", "worker"):
        assert compose[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert compose[name]["env_file"] == ".env"
        assert compose[name]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert compose["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert compose["worker"]["healthcheck"] == {"disable": True}  # the image's check is the web's


def dockerfile() -> dict[str, list[str]]:
    """The runtime stage's ENTRYPOINT, CMD and HEALTHCHECK CMD (exec form)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runtime = text.rsplit("\nFROM ", 1)[1]
    found = {}
    for key, pattern in (("entrypoint", r"^ENTRYPOINT (\[.*\])$"), ("cmd", r"^CMD (\[.*\])$"),
                         ("healthcheck", r"^HEALTHCHECK .*? CMD (\[.*\])$")):
        m = re.search(pattern, runtime, re.MULTILINE)
        assert m, key
        found[key] = json.loads(m.group(1))
    assert "USER hplj" in runtime  # non-root
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2  # multi-stage
    return found


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "HPLJ_", "LOG_"))}
    env.update({"DATABASE_URL": url, **extra})
    return env


@pytest.mark.postgres
def test_the_image_commands_migrate_serve_and_work_against_postgres(postgres_cluster: PgCluster,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    """What compose runs, without a container runtime: the image's entry point (the installed
    `hplj` script) with each service's command, and the image's HEALTHCHECK command verbatim."""
    image = dockerfile()
    assert image["entrypoint"] == ["hplj"] and image["cmd"] == ["serve"]
    hplj = str(Path(sys.executable).parent / image["entrypoint"][0])
    name = "compose_" + uuid.uuid4().hex[:8]
    url = postgres_cluster.create_database(name)
    web_port, worker_port = _free_port(), _free_port()
    health = image["healthcheck"]
    health_env = _env(url, PORT=str(web_port))
    # before the web process is up, the HEALTHCHECK fails
    assert subprocess.run(health, env=health_env, capture_output=True, timeout=30, check=False).returncode != 0

    migrate = subprocess.run([hplj, "db", "upgrade"], env=_env(url), cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, check=False)
    assert migrate.returncode == 0 and migrate.stderr == "", migrate.stderr
    logs = {n: (tmp_path / f"{n}.log").open("w") for n in ("web", "worker")}
    procs = {
        "web": subprocess.Popen([hplj, "serve", "--no-scheduler"], env=_env(url, PORT=str(web_port)), cwd=tmp_path,
                                stdout=logs["web"], stderr=subprocess.STDOUT, text=True),
        "worker": subprocess.Popen([hplj, "worker"], env=_env(url, HPLJ_METRICS_PORT=str(worker_port)), cwd=tmp_path,
                                   stdout=logs["worker"], stderr=subprocess.STDOUT, text=True),
    }
    try:
        assert wait_json(f"http://127.0.0.1:{web_port}/readyz", procs["web"])["status"] == "ready"
        assert wait_json(f"http://127.0.0.1:{worker_port}/readyz", procs["worker"])["status"] == "ready"
        check = subprocess.run(health, env=health_env, capture_output=True, text=True, timeout=30, check=False)
        assert check.returncode == 0, check.stderr
        with urllib.request.urlopen(f"http://127.0.0.1:{worker_port}/metrics", timeout=5) as r:
            assert b"hplj_tick_duration_seconds_count" in r.read()
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(timeout=30)
        for f in logs.values():
            f.close()
    out = {n: (tmp_path / f"{n}.log").read_text() for n in procs}
    assert all(p.returncode == 0 for p in procs.values()), out
    assert "this process runs no scheduler" in out["web"] and "this process runs the scheduler" in out["worker"]
    assert "Traceback" not in out["web"] + out["worker"]


def _runtime() -> str | None:
    for tool in ("podman", "docker"):
        if shutil.which(tool) and subprocess.run([tool, "info"], capture_output=True, timeout=30,
                                                 check=False).returncode == 0:
            return tool
    return None


@pytest.mark.slow
def test_the_image_builds_and_answers_healthz(tmp_path: Path) -> None:
    tool = _runtime()
    if tool is None:
        pytest.skip("no container runtime can run here (docker/podman info fails); the image's commands are "
                    "tested above instead")
    base = re.search(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert base is not None
    pulled = subprocess.run([tool, "pull", f"docker.io/library/{base.group(1)}"], capture_output=True, text=True,
                            timeout=600, check=False)
    if pulled.returncode != 0:
        pytest.skip(f"{tool} runs here but cannot pull the base image {base.group(1)} (no registry access: "
                    f"{pulled.stderr.strip().splitlines()[-1][:160]}); the image's commands are tested above instead")
    tag = f"hplj-bot:test-{uuid.uuid4().hex[:8]}"
    subprocess.run([tool, "build", "-t", tag, str(ROOT)], check=True, timeout=1200)
    port = _free_port()
    cid = subprocess.run([tool, "run", "-d", "-p", f"127.0.0.1:{port}:3978", "-e", "DATABASE_URL=sqlite:////tmp/x.db",
                          tag], check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    try:
        assert wait_json(f"http://127.0.0.1:{port}/readyz", timeout=90)["status"] == "ready"
        user = subprocess.run([tool, "exec", cid, "id", "-u"], capture_output=True, text=True, check=True).stdout
        assert user.strip() != "0"
    finally:
        subprocess.run([tool, "rm", "-f", cid], capture_output=True, check=False)
