"""Files to a person's DM with Slack's current upload flow (`files:write`): ask for an upload
URL (`files.getUploadURLExternal`), POST the bytes to it, then share the file in the DM
(`files.completeUploadExternal`). `files.upload`, the older one-call method, is retired.

Used for what an admin asked for as a file (`report <cohort> csv`): the whole file arrives as a
Slack file, instead of being shown inline and cut to a message's size."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("hplj.slack")


class FileUploadError(Exception):
    """The file could not be sent; `str()` names the step, never the content."""


async def send_file(client: AsyncWebClient, session: Any, user_id: str, filename: str, content: bytes, *,
                    title: str, comment: str) -> str:
    """Share `content` as `filename` in the DM with `user_id`; returns the DM's channel id."""
    try:
        opened = await client.conversations_open(users=user_id)
        channel = str(opened["channel"]["id"])
        step1 = await client.files_getUploadURLExternal(filename=filename, length=len(content))
        upload_url, file_id = str(step1["upload_url"]), str(step1["file_id"])
    except Exception as exc:
        raise FileUploadError(f"getting an upload URL failed ({type(exc).__name__})") from exc
    try:
        async with session.post(upload_url, data=content) as resp:
            if resp.status != 200:
                raise FileUploadError(f"the upload answered HTTP {resp.status}")
    except FileUploadError:
        raise
    except Exception as exc:
        raise FileUploadError(f"the upload failed ({type(exc).__name__})") from exc
    try:
        await client.files_completeUploadExternal(files=[{"id": file_id, "title": title}], channel_id=channel,
                                                  initial_comment=comment)
    except Exception as exc:
        raise FileUploadError(f"sharing the file failed ({type(exc).__name__})") from exc
    return channel
