"""Every object in a JSON document (Block Kit, an Adaptive Card), for tests that inspect them all."""

from __future__ import annotations

from typing import Any


def walk(node: Any) -> list[dict[str, Any]]:
    """Each dict in `node`, depth first, the outermost first."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out.extend(walk(v))
    elif isinstance(node, list):
        for v in node:
            out.extend(walk(v))
    return out
