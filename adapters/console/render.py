"""Console rendering: the plain-text fallback every platform feature degrades to."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

from journeys.forms import visible
from journeys.messages import Message
from journeys.text import plain


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
    # typed spans and mentions become plain words; control characters (escape sequences that
    # would drive the terminal) are stripped
    return plain("\n".join(line for line in lines if line is not None))


def save_attachment(msg: Message, folder: Path) -> Path:
    """Write `msg`'s attachment whole to a new file in `folder` (never overwriting one: `name-2.ext`
    and so on), readable by the owner only as it may hold personal data; returns its path."""
    name = Path(msg.attachment_name).name or "attachment.txt"
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        path = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(msg.attachment_text)
        return path
    raise FileExistsError(f"too many files named like {name} in {folder}")
