"""`hplj enroll --csv` with the `facilitator_email` column: each cohort's workshop facilitator,
one per cohort, a disagreeing row refused with its line (issue 21 item 8)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_csv_import import count, hplj


def test_the_facilitator_column_names_one_facilitator_per_cohort(tmp_path: Path) -> None:
    path = tmp_path / "roles.csv"
    path.write_text(
        "email,manager_email,journey,start,cohort,facilitator_email\n"
        "ana@example.com,ben@example.com,active-listening,2027-01-11,north,fay@example.com\n"
        "bo@example.com,ben@example.com,active-listening,2027-01-11,north,\n"
        "cy@example.com,ben@example.com,active-listening,2027-01-11,north,gil@example.com\n"
        "di@example.com,ben@example.com,active-listening,2027-01-11,south,di@example.com\n"
        "ed@example.com,ben@example.com,active-listening,2027-01-11,south,not-an-address\n"
        "flo@example.com,ben@example.com,active-listening,2027-01-11,,gil@example.com\n")
    r = hplj(tmp_path, "--csv", str(path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f"{path}:4: facilitator_email gil@example.com differs from fay@example.com on line 2 for cohort north: "
            "one facilitator per cohort") in r.stdout
    assert f"{path}:5: facilitator_email is the participant themselves" in r.stdout
    assert f"{path}:6: facilitator_email 'not-an-address' is not an e-mail address" in r.stdout
    assert "enrolled 3," in r.stdout and "facilitators named: 2" in r.stdout
    roles = ("select r.cohort from cohort_roles r join people p on p.id=r.person_id "
             "where r.role='facilitator' and p.email='{}' and r.stage='brief'")
    assert count(tmp_path, f"select count(*) from ({roles.format('fay@example.com')}) where cohort='north'") == 1
    # a row without a cohort: the journey and start date name it, as `enroll` does
    assert count(tmp_path, f"select count(*) from ({roles.format('gil@example.com')}) "
                           "where cohort='active-listening-2027-01-11'") == 1
    assert count(tmp_path, "select count(*) from cohort_roles") == 2
