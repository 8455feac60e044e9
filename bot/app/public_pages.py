"""Pages `hplj serve` answers without sign-in: the privacy statement and terms of use the Teams
manifest links to (`/privacy`, `/terms`), and the journey file schema editors fetch
(`/schema/journey.json`, whose `$id` is that same URL).

The two texts are the deployer's to write (`HPLJ_PRIVACY_TEXT`, `HPLJ_TERMS_TEXT`: the text, or
`@path` to read it from a file); the defaults describe what this software itself stores.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from aiohttp import web

from journeys.schema import SCHEMA_PATH, journey_json_schema

DEFAULT_PRIVACY = """\
This learning bot stores, for each person it talks to: their name, e-mail address, chat user id, \
time zone and working hours, who their manager is, the journeys they are enrolled in, and what \
they answer or type to it (plans, reflections, survey answers).

It uses this to send the journey's prompts at a sensible time, to ask managers for support, and to \
report results to the learning team. Reports show groups, not individuals, below a minimum group \
size. Nothing is sold or shared outside the organisation running the bot.

Anyone can ask the learning team for a copy of everything stored about them (export) or to have \
it erased (forget). Typing "stop" to the bot ends all messages at once.

The organisation running this bot is responsible for it; ask your learning and development team \
for its contact details and retention period."""

DEFAULT_TERMS = """\
This bot is provided by your organisation to support a learning programme. Taking part is part \
of the programme your organisation enrolled you in; you can pause or stop the messages at any \
time by typing "pause" or "stop".

Do not type information into the bot that you would not share with your manager and your \
learning team. The software is provided as is, without warranty, under the Apache License 2.0."""


def page_text(setting: str, default: str) -> str:
    """The setting's text, the file it names with `@path`, or the default when it is empty."""
    value = setting.strip()
    if not value:
        return default
    if value.startswith("@"):
        return Path(value[1:]).expanduser().read_text(encoding="utf-8")
    return value


def page_problem(privacy_text: str, terms_text: str) -> str | None:
    """One sentence when a page's `@file` cannot be read (checked before `hplj serve` starts)."""
    for name, value in (("HPLJ_PRIVACY_TEXT", privacy_text), ("HPLJ_TERMS_TEXT", terms_text)):
        if value.strip().startswith("@"):
            path = Path(value.strip()[1:]).expanduser()
            try:
                path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
                return f"{name} names the file {path}, which cannot be read ({why})."
    return None


def render_page(title: str, text: str) -> str:
    """A plain, readable HTML page: one paragraph per blank-line-separated block, all escaped."""
    paragraphs = "".join(f"<p>{html.escape(p.strip()).replace(chr(10), '<br>')}</p>"
                         for p in text.split("\n\n") if p.strip())
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>body{{font:16px/1.5 system-ui,sans-serif;"
            "max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}</style></head>"
            f"<body><main><h1>{html.escape(title)}</h1>{paragraphs}</main></body></html>\n")


def mount_public_pages(app: web.Application, *, public_url: str, privacy_text: str = "",
                       terms_text: str = "") -> None:
    """Add `/privacy`, `/terms` and `/schema/journey.json`. Texts are read once, at start: a
    missing `@file` stops `hplj serve` at start rather than answering 500 later."""
    pages = {"/privacy": ("Privacy statement", page_text(privacy_text, DEFAULT_PRIVACY)),
             "/terms": ("Terms of use", page_text(terms_text, DEFAULT_TERMS))}
    for path, (title, text) in pages.items():
        body = render_page(title, text)

        async def page(_request: web.Request, body: str = body) -> web.Response:
            return web.Response(text=body, content_type="text/html", charset="utf-8",
                                headers={"Cache-Control": "public, max-age=3600"})

        app.router.add_get(path, page)
    schema = json.dumps(journey_json_schema(public_url.rstrip("/") + SCHEMA_PATH), indent=2) + "\n"

    async def schema_file(_request: web.Request) -> web.Response:
        return web.Response(text=schema, content_type="application/schema+json", charset="utf-8",
                            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"})

    app.router.add_get(SCHEMA_PATH, schema_file)
