"""Which journeys `hplj chat` and `hplj demo` run: the author's own file, else `HPLJ_JOURNEYS`, else the
bundled library, so an author can see a journey without enrolling anyone."""

from __future__ import annotations

import os
from pathlib import Path

from journeys.definition import Journey
from journeys.loader import JourneyFileError, default_library_path, load_journey_file, load_library

PREFERRED = "active-listening"


def chosen_library(journey_file: Path | None, journeys_dir: str | None = None) -> tuple[dict[str, Journey], str]:
    """(the library, the id of the journey to run). `journey_file` wins; otherwise the folder
    `journeys_dir` (default: `HPLJ_JOURNEYS`, then the bundled journeys) and its active-listening
    journey, or its first by id. Raises `JourneyFileError` or `OSError` as the loaders do."""
    if journey_file is not None:
        journey = load_journey_file(journey_file)
        return {journey.id: journey}, journey.id
    folder = journeys_dir if journeys_dir is not None else os.environ.get("HPLJ_JOURNEYS") or ""
    library = load_library(Path(folder) if folder else default_library_path())
    if not library:
        raise JourneyFileError([])  # an empty folder: nothing to run
    return library, PREFERRED if PREFERRED in library else min(library)
