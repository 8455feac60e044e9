"""`hplj serve` answers the pages the Teams manifest names (/privacy, /terms; their text from the
settings, typed text shown inert) and the journey schema editors fetch, at the URL its `$id` says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import yaml

from adapters.teams.package import load_manifest
from tests.e2e.test_serve import _free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "journeys" / "library" / "active-listening.yml"


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def test_serve_answers_privacy_terms_and_the_journey_schema(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    terms = tmp_path / "terms.txt"
    terms.write_text("Contoso's terms.\n\nSecond paragraph.", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
           "HPLJ_PUBLIC_URL": base, "HPLJ_PRIVACY_TEXT": "Contoso keeps <script>x</script> nothing.",
           "HPLJ_TERMS_TEXT": f"@{terms}", "SLACK_BOT_TOKEN": "", "MICROSOFT_APP_ID": ""}
    proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
                             "--no-scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _, _ = get(f"{base}/healthz")
                if status in (200, 503):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        developer = load_manifest()["developer"]
        privacy_path = urlsplit(developer["privacyUrl"]).path
        terms_path = urlsplit(developer["termsOfUseUrl"]).path
        status, kind, body = get(base + privacy_path)
        assert status == 200 and kind.startswith("text/html")
        assert "Contoso keeps &lt;script&gt;x&lt;/script&gt; nothing." in body and "<script>" not in body
        status, _, body = get(base + terms_path)
        assert status == 200 and "<p>Contoso&#x27;s terms.</p><p>Second paragraph.</p>" in body
        status, kind, body = get(f"{base}/schema/journey.json")
        assert status == 200 and kind.startswith("application/schema+json")
        schema = json.loads(body)
        assert schema["$id"] == f"{base}/schema/journey.json"  # fetchable where it says it is
        data = json.loads(json.dumps(yaml.safe_load(SAMPLE.read_text()), default=str))
        jsonschema.Draft202012Validator(schema).validate(data)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out, out


def test_an_unreadable_page_file_stops_serve_with_one_sentence(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
           "HPLJ_PRIVACY_TEXT": f"@{tmp_path}/missing.txt", "SLACK_BOT_TOKEN": "", "MICROSOFT_APP_ID": ""}
    r = subprocess.run([sys.executable, "-m", "bot.app.cli", "serve", "--port", str(_free_port())], env=env,
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"HPLJ_PRIVACY_TEXT names the file {tmp_path}/missing.txt, which cannot be read" in r.stderr
