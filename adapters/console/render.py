"""Console rendering: the plain-text fallback every platform feature degrades to."""

from __future__ import annotations

import re
import textwrap

from journeys.forms import visible
from journeys.messages import Message


def _plain(text: str) -> str:
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)  # *bold* -> bold
    return text.replace("`", "")


def render_text(msg: Message, width: int = 78, *, updated: bool = False) -> str:
    """A message as a person reads it in a terminal; inputs become numbered typed answers."""
    lines: list[str] = []
    head = " · ".join(x for x in (msg.journey_title, msg.title) if x)
    if updated:
        head = f"(updated) {head}"
    if head:
        lines.append(f"[{head}]")
    for para in _plain(msg.text).split("\n"):
        lines.extend(textwrap.wrap(para, width) or [""])
    for label, value in msg.facts:
        lines.append(f"  {label}: {value}")
    for link in msg.links:
        lines.append(f"  ↗ {link.label}: {link.url}")
    if msg.buttons:
        lines.append("  " + "   ".join(f"[{i}] {b.label}" for i, b in enumerate(msg.buttons, 1)))
    elif msg.fields:
        shown = [f for f in msg.fields if visible(f, {}) ]
        lines.append(f"  ✎ {msg.form_label or 'Answer'}: type your answers one at a time; first: {shown[0].label}"
                     if shown else "")
    if msg.attachment_name:
        lines.append(f"  📎 {msg.attachment_name} ({len(msg.attachment_text)} bytes)")
    if msg.context:
        lines.append(f"  — {msg.context}")
    return "\n".join(line for line in lines if line is not None)
