"""The management chain's circle check (issue 23, items 2 and 7): what it finds, and that a very
long chain is checked without recursion (no timing is asserted; see the report for measurements)."""

from __future__ import annotations

from journeys.chain import circle_text, circles, in_circles


def test_circles_are_found_and_chains_are_not() -> None:
    edges = {"ana": ["ben"], "ben": ["cleo"], "cleo": ["ana"], "dev": ["ana"], "eli": ["eli"], "fay": ["gus"]}
    found = sorted(sorted(g) for g in circles(edges))
    assert found == [["ana", "ben", "cleo"], ["eli"]]
    assert circle_text(["ana", "ben", "cleo"], edges) == "ana -> ben -> cleo -> ana"


def test_stored_links_and_new_ones_together() -> None:
    stored = [("cat", "dan", "own"), ("ana", "ben", "enrolled"), ("chen", "ben", "enrolled")]
    assert set(in_circles(stored, {"dan": "cat"})) == {"cat", "dan"}  # across two files
    assert set(in_circles(stored, {"ben": "ana"})) == {"ana", "ben"}  # a participant above their manager
    assert in_circles(stored, {"cat": "eve", "dan": "cat"}) == {}  # the new file replaces cat's own manager
    assert in_circles(stored, {"ben": "hana"}) == {}


def test_a_chain_of_a_hundred_thousand_is_checked_without_recursion() -> None:
    n = 100_000
    edges = {f"p{i}": [f"p{i + 1}"] for i in range(n)}
    assert circles(edges) == []
    edges[f"p{n}"] = ["p0"]
    (group,) = circles(edges)
    assert len(group) == n + 1
    assert circle_text(group, edges).endswith(f"({n + 1:,} people)")
