"""`/journey help` as its reader can use it: written in the syntax of the platform they are on
(Slack's slash command, a typed message in Teams, the console), and listing the admin commands
only to admins. Everyone else sees what a participant or manager may type."""

from __future__ import annotations

from journeys.admin.commands import _SPECS, HELP, CommandError, help_text

# How an admin command is written on each platform.
ADMIN_PREFIX = {"slack": "/journey ", "teams": "journey ", "console": "journey "}
_ADMIN_HOW = {
    "slack": "Admin commands: type `/journey <command>` in any conversation (only you see the answer).",
    "teams": "Admin commands: message me `journey <command>` in our chat.",
    "console": "Admin commands: type `journey <command>`.",
}
_USERS = {
    "slack": "Name people with @mentions or e-mail addresses.",
    "teams": "Name people with @mentions or e-mail addresses.",
    "console": "Name people with @name or e-mail addresses.",
}
# What anyone may type to the bot (journeys/conversation.py answers it), in the menu's order.
PARTICIPANT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", "where you are, what's next, your moments that matter"),
    ("snooze", "hold what's waiting until the next working morning (or `snooze friday`)"),
    ("pause", "hold everything, e.g. while on leave"),
    ("resume", "pick up where you left off"),
    ("stop", "leave the journey; nothing more is sent"),
    ("help", "what you can do"),
)
_WHERE = {
    "slack": "Type these to me in the app's *Messages* tab (not after `/journey`):",
    "teams": "Type these to me in our chat, or pick them from the menu above the message box:",
    "console": "Type these:",
}
_ANSWER = {
    "slack": "To answer a question, use its buttons or reply in its thread.",
    "teams": "To answer a question, use its buttons or Reply to it.",
    "console": "To answer a question, type the number of a button or your answer.",
}


def participant_help(platform: str) -> str:
    """What a participant or manager may type, on their platform."""
    lines = [_WHERE.get(platform, _WHERE["console"])]
    lines += [f"• `{word}` — {what}" for word, what in PARTICIPANT_COMMANDS]
    lines.append(_ANSWER.get(platform, _ANSWER["console"]))
    return "\n".join(lines)


def admin_help(platform: str, topic: str | None = None) -> str:
    """The admin commands in the platform's syntax, or one command's usage and example (raises
    CommandError for an unknown one)."""
    prefix = ADMIN_PREFIX.get(platform, ADMIN_PREFIX["console"])
    if topic is not None and topic.strip():
        text = help_text(topic)  # checks the name
        return text.replace("Example: `", f"Example: `{prefix}", 1)
    lines = [_ADMIN_HOW.get(platform, _ADMIN_HOW["console"])]
    lines += [f"• `{prefix}{spec.usage}` — {spec.summary}" for spec in _SPECS.values()]
    lines.append(_USERS.get(platform, _USERS["console"]))
    lines.append(f"Type `{prefix}help <command>` for details and an example.")
    lines.append("")
    lines.append(participant_help(platform))
    return "\n".join(lines)


def reader_help(platform: str, *, admin: bool, topic: str | None = None) -> tuple[str, str]:
    """(text, title) of `help` for this reader: admins get the admin commands, everyone else what
    they may type (a non-admin asking about an admin command is told it is for admins)."""
    if admin:
        return admin_help(platform, topic), ("Journey admin commands" if not (topic and topic.strip())
                                             else f"help {topic.strip()}")
    name = (topic or "").strip().lower()
    if name and name in HELP and name not in {w for w, _ in PARTICIPANT_COMMANDS}:
        return (f"`{name}` is for journey admins.\n\n" + participant_help(platform)), "What you can do"
    return participant_help(platform), "What you can do"


__all__ = ["ADMIN_PREFIX", "PARTICIPANT_COMMANDS", "CommandError", "admin_help", "participant_help", "reader_help"]
