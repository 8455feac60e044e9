"""Signed, expiring dashboard links: signature, expiry, tampering, wrong secret."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.dashboard import links as dashboard
from bot.dashboard.links import ALL, LinkError, link_query, make_link, secret_for, verify
from bot.services.clock import SimulatedClock

NOW = datetime(2027, 6, 1, 13, 0, tzinfo=UTC)
SECRET = "s3cret-for-tests"


def _service(secret: str = SECRET, public_url: str = "https://bot.example.com/") -> SimpleNamespace:
    return SimpleNamespace(clock=SimulatedClock(NOW),
                           settings=SimpleNamespace(dashboard_secret=secret, public_url=public_url))


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_link_has_the_public_url_and_verifies_until_it_expires() -> None:
    url = make_link(_service(), "U123")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://bot.example.com/dashboard"
    q = _query(url)
    assert int(q["exp"]) == int((NOW + timedelta(hours=1)).timestamp())
    claims = verify(q, NOW, SECRET)
    assert claims.actor == "U123" and claims.scope == ALL and claims.cohort is None
    assert claims.expires == NOW + timedelta(hours=1)
    assert verify(q, NOW + timedelta(minutes=59, seconds=59), SECRET).actor == "U123"
    with pytest.raises(LinkError, match="expired"):
        verify(q, NOW + timedelta(hours=1), SECRET)
    with pytest.raises(LinkError, match="expired"):
        verify(q, NOW + timedelta(days=3), SECRET)


def test_custom_ttl() -> None:
    q = _query(make_link(_service(), "U1", ttl=timedelta(minutes=5)))
    verify(q, NOW + timedelta(minutes=4), SECRET)
    with pytest.raises(LinkError, match="expired"):
        verify(q, NOW + timedelta(minutes=5), SECRET)


@pytest.mark.parametrize("change", [
    {"exp": "+1"}, {"exp": "-1"}, {"exp": "abc"}, {"actor": "U999"}, {"scope": "other-cohort"},
    {"sig": "flip"}, {"sig": ""}, {"sig": "00"},
])
def test_tampering_is_refused(change: dict[str, str]) -> None:
    q = _query(make_link(_service(), "U123"))
    key, how = next(iter(change.items()))
    if key == "exp" and how in ("+1", "-1"):
        q["exp"] = str(int(q["exp"]) + int(how))
    elif key == "sig" and how == "flip":
        q["sig"] = q["sig"][:-1] + ("a" if q["sig"][-1] != "a" else "b")
    else:
        q[key] = how
    with pytest.raises(LinkError):
        verify(q, NOW, SECRET)


@pytest.mark.parametrize("missing", ["actor", "scope", "exp", "sig"])
def test_missing_parts_are_refused(missing: str) -> None:
    q = _query(make_link(_service(), "U123"))
    del q[missing]
    with pytest.raises(LinkError, match="no valid signature"):
        verify(q, NOW, SECRET)


def test_cohort_scoped_link_refuses_another_cohort() -> None:
    q = _query(make_link(_service(), "U123", cohort="cohort-a"))
    assert q["scope"] == "cohort-a" and q["cohort"] == "cohort-a"
    assert verify(q, NOW, SECRET).cohort == "cohort-a"
    assert verify({k: v for k, v in q.items() if k != "cohort"}, NOW, SECRET).cohort == "cohort-a"
    with pytest.raises(LinkError, match="does not cover"):
        verify({**q, "cohort": "cohort-b"}, NOW, SECRET)
    with pytest.raises(LinkError, match="not valid"):
        verify({**q, "scope": ALL, "cohort": "cohort-b"}, NOW, SECRET)


def test_all_cohort_link_may_pick_any_cohort() -> None:
    q = _query(make_link(_service(), "U123"))
    assert verify({**q, "cohort": "cohort-b"}, NOW, SECRET).cohort == "cohort-b"


def test_wrong_secret_is_refused() -> None:
    q = _query(make_link(_service("one-secret"), "U123"))
    with pytest.raises(LinkError, match="not valid"):
        verify(q, NOW, "another-secret")
    forged = link_query(b"guessed", "U123", int(q["exp"]))
    with pytest.raises(LinkError, match="not valid"):
        verify(forged, NOW, "one-secret")


def test_empty_secret_falls_back_to_a_random_per_process_secret() -> None:
    service = _service(secret="")
    key = secret_for(service.settings)
    assert key == dashboard._PROCESS_SECRET and len(key) >= 32
    assert secret_for(None) == key
    q = _query(make_link(service, "U123"))
    assert verify(q, NOW, key).actor == "U123"
    with pytest.raises(LinkError):
        verify(q, NOW, "")  # an empty configured secret is never used as the key itself


def test_signature_uses_constant_time_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = dashboard.hmac.compare_digest

    def spy(a: object, b: object) -> bool:
        calls.append((a, b))
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(dashboard.hmac, "compare_digest", spy)
    verify(_query(make_link(_service(), "U123")), NOW, SECRET)
    assert len(calls) == 1


def test_actor_with_separators_cannot_shift_fields() -> None:
    q = _query(make_link(_service(), "U1|*"))
    with pytest.raises(LinkError):
        verify({**q, "actor": "U1", "scope": "*|*"}, NOW, SECRET)
