"""`hplj teams package`: the Teams app package (manifest + icons, zipped) to upload in Teams.

The manifest template and icons ship inside the installed package (adapters/teams/manifest), so
this works from a wheel as well as from a checkout. The App ID and host default to the settings
(`MICROSOFT_APP_ID`, the host of `HPLJ_PUBLIC_URL`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

teams_app = typer.Typer(help="Microsoft Teams: the app package to upload.", no_args_is_help=True)


@teams_app.command("package")
def package(
    out: Annotated[Path, typer.Option("--out", help="The zip file to write.")] = Path("hplj-teams.zip"),
    app_id: Annotated[str, typer.Option("--app-id", help="The bot's Microsoft App ID (default: "
                                        "MICROSOFT_APP_ID).")] = "",
    domain: Annotated[str, typer.Option("--domain", help="The host `hplj serve` is reached at, e.g. "
                                        "bot.example.org (default: the host of HPLJ_PUBLIC_URL).")] = "",
    teams_app_id: Annotated[str, typer.Option("--teams-app-id", help="A separate GUID for the Teams app "
                                              "(default: the App ID).")] = "",
    version: Annotated[str, typer.Option("--version", help="The app version shown in Teams (default: "
                                         "the manifest's).")] = "",
) -> None:
    """Build the Teams app package (manifest schema 1.19 and the two icons) for Apps > Upload an app."""
    # lazy: only this command needs it (the CLI starts fast)
    from adapters.teams.package import MANIFEST_SCHEMA, build_app_package
    from bot.app.settings import ConfigError, load_settings

    if not app_id or not domain:
        try:
            settings = load_settings()
        except ConfigError as exc:
            sys.stderr.write(f"hplj: {exc}\n")
            raise typer.Exit(2) from None
        app_id = app_id or settings.microsoft_app_id
        if not domain and settings.public_url:
            domain = urlsplit(settings.public_url).netloc
    if not app_id:
        raise typer.BadParameter("give the bot's Microsoft App ID (or set MICROSOFT_APP_ID)", param_hint="--app-id")
    try:
        path = build_app_package(out, app_id=app_id, domain=domain, teams_app_id=teams_app_id or None,
                                 version=version or None)
    except ValueError as exc:
        hint = "--domain" if "domain" in str(exc) else "--teams-app-id" if "teams_app_id" in str(exc) else "--app-id"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {out}: {exc.strerror or exc}", param_hint="--out") from None
    print(f"wrote {path}: Teams app package (manifest {MANIFEST_SCHEMA}) for app {app_id} at {domain}; upload it "
          "in Teams (Apps > Manage your apps > Upload an app) or the Teams admin centre")
