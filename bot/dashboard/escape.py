"""One HTML escape for every dashboard section: anything a person typed, or any figure, reaches the
page only through it."""

from __future__ import annotations

import html


def esc(x: object) -> str:
    return html.escape(str(x), quote=True)
