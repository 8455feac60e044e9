"""The JSON Schema of journey files, written for editors (yaml-language-server, VS Code, JetBrains).

Three things pydantic's own schema does not give an editor:
- a `$id` that can be fetched: the URL `hplj serve` answers it at (`/schema/journey.json`);
- a `description` on every field, shown on hover and in completion (`FIELD_DOCS` below fills in
  those the models do not carry themselves);
- precise errors per step kind. Pydantic writes the step union as `oneOf` with OpenAPI's
  `discriminator`, which JSON Schema validators ignore: a bad step then fails all seven branches
  and an editor says only "not valid under any of the given schemas". Here each kind is an
  `if kind is X then <X's schema>` branch, so a bad `mtm_plan` step is checked only as one.
"""

from __future__ import annotations

from typing import Any

from journeys.definition import Journey

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_PATH = "/schema/journey.json"
DEFAULT_SCHEMA_URL = "http://localhost:3978" + SCHEMA_PATH  # `hplj serve` on its default port

_WHEN = ("when the prompt is sent: '<anchor>[+N|-N] HH:MM', N working days from the anchor (start, "
         "event:<id>, or mtm for a follow-up) at the participant's local time, e.g. 'start+2 10:00'")
_STEP_KIND = ("what the step is: message, question, mtm_plan, mtm_follow_up, manager_task, manager_request "
              "or survey")

# Descriptions by "Model.field", then by field name alone (the same meaning in every model).
FIELD_DOCS: dict[str, str] = {
    "Journey.id": "the journey's id (lowercase letters, digits, '-' and '_'); enrollments name it",
    "Journey.title": "the journey's name as participants and managers see it (up to 80 characters)",
    "Journey.version": "bump it when you change the steps; enrollments keep the version they started on",
    "Journey.description": "what the journey is for, in a sentence or two",
    "Journey.ppp": "the Program Performance Path: business goal, outcomes, key behaviours, moments that matter",
    "Journey.target_impact_rate": ("the share of participants expected to apply the skill to a worthwhile "
                                   "result (0-1, measured by the Success Case survey)"),
    "Journey.calendar": "working days, hours, quiet hours and public holidays that prompts are timed around",
    "Journey.events": "named dates such as the workshop, set at enrollment (or their default)",
    "Journey.manager_digest": "the weekly summary for managers; leave it out for none",
    "Journey.manager_support": "how managers are held to account: escalation, fallbacks, the before phase",
    "Journey.interviews": "the Success Case interviews after the survey: whom, how long, how soon",
    "Journey.steps": "everything the bot sends, roughly in journey order; each step has a `kind`",
    "Journey.ending": "how the journey ends: the closing message, how long surveys stay open, next moments",
    "Behaviour.id": "the behaviour's id, which MTM plans refer to",
    "Behaviour.text": "the key behaviour, as the business would describe it",
    "Outcome.id": "the outcome's id, so success stories and interviews can be tagged with it",
    "Outcome.text": "the performance outcome, in the business's words",
    "Outcome.measure": "how the outcome is counted and what one unit is worth",
    "PerformancePath.business_goal": "the business result the journey serves, in the business's words",
    "PerformancePath.behaviours": "the key behaviours that produce the outcomes",
    "PerformancePath.moments_that_matter": "situations where the behaviours matter; MTM plans offer them as choices",
    "Calendar.timezone": "IANA time zone for people without their own (e.g. Europe/London)",
    "Calendar.working_days": "the days prompts may be sent (mon ... sun)",
    "Calendar.working_hours": "the local hours prompts may be sent in",
    "Calendar.holidays": "whose public holidays are skipped (a person's own region replaces it)",
    "WorkingHours.start": "local time 'HH:MM' the working day starts",
    "WorkingHours.end": "local time 'HH:MM' the working day ends",
    "PersonalBounds.start": "a person's own hours never start before this local time 'HH:MM'",
    "PersonalBounds.end": "a person's own hours never end after this local time 'HH:MM'",
    "Holidays.country": "ISO 3166 alpha-2 country code whose public holidays are skipped, e.g. GB",
    "Holidays.subdivision": "the country's region, e.g. SCT or NY, for regional holidays",
    "DigestDef.day": "the weekday the digest is sent",
    "DigestDef.at": "the manager's local time 'HH:MM' it is sent at",
    "Ending.closing": "the closing message, chosen by what happened",
    "Event.id": "the event's id; `when` refers to it as event:<id> (must not end in -<digits>)",
    "Event.title": "the event's name, e.g. 'Workshop'",
    "Fallback.offer": "what is offered when a support request gets no yes: peer, coach, on_your_own",
    "LinkDef.label": "the link's text",
    "LinkDef.url": "an http(s) address",
    "OptionDef.value": "the stored value of the option (lowercase id)",
    "OptionDef.label": "the option as people see it",
    "ManagerSupport.fallback": "what a participant is offered when their manager cannot support a moment",
    "ManagerSupport.expectations": "the before phase: consent, what the manager sees, what they agreed",
    "ManagerSupport.leader_brief": "the senior leader's kickoff brief before the start; null turns it off",
    "ManagerRequestStep.for_mtm": "the mtm_plan step whose moment the manager is asked to support",
    "ManagerRequestStep.coach_guide": "how the manager can coach this moment, opened from the request",
    "ManagerRequestStep.when": "not used: a manager request goes out when its moment is planned",
    "MtmPlanStep.practice": "safe for a low-stakes first practice, real for a moment that matters at work",
    "Question.id": "the question's id (answers and show_if refer to it)",
    "Question.text": "the question as people see it",
    "Question.required": "whether the form can be sent without an answer",
    "Question.role": "what the Success Case report reads this answer as (scm_...)",
    "Question.show_if": "show the question only for some answers to an earlier choice question",
    "ShowIf.question": "the id of an earlier choice question in the same survey",
    "ShowIf.in": "the answers (option values) that show this question",
    "SurveyStep.questions": "the survey's questions, in order, sent as one form",
    "SurveyStep.evaluation": ("success_case: the Success Case survey at the end; follow_up: the later "
                              "business-results survey"),
    # fields every step has
    "id": "the step's id (lowercase letters, digits, '-' and '_'), unique in the journey",
    "title": "a short title shown above the text",
    "text": "what the bot says (keep it under about 450 characters); {name} and {manager} are filled in",
    "when": _WHEN,
    "links": "links shown with the step: {label, url}",
    "reminders": "ask again every `after` working days, at most `max` times",
    "escalate_to": "after the last reminder, tell the participant's manager (needs `reminders`)",
    "kind": _STEP_KIND,
    "answer": "the kind of answer: choice, multi_choice, rating, text, long_text or date",
    "options": "the choices for a choice or multi_choice answer: {value, label}",
    "scale": "the rating scale: 5 or 10",
}


def _describe(name: str, definition: Any) -> None:
    """Fill in missing descriptions in `definition` and its nested object forms (Outcome is a
    sentence or an object: its fields sit under `anyOf`)."""
    if isinstance(definition, list):
        for item in definition:
            _describe(name, item)
        return
    if not isinstance(definition, dict):
        return
    for field, prop in (definition.get("properties") or {}).items():
        if isinstance(prop, dict) and not prop.get("description"):
            text = FIELD_DOCS.get(f"{name}.{field}") or FIELD_DOCS.get(field)
            if text:
                prop["description"] = text
    for key in ("anyOf", "oneOf", "allOf"):
        _describe(name, definition.get(key))


def _if_then(union: dict[str, Any]) -> dict[str, Any]:
    """`oneOf` + `discriminator` -> an object whose `kind` picks exactly one schema (if/then)."""
    mapping: dict[str, str] = union["discriminator"]["mapping"]
    tag: str = union["discriminator"]["propertyName"]
    return {
        "type": "object",
        "required": [tag],
        "properties": {tag: {"enum": sorted(mapping), "description": _STEP_KIND}},
        "allOf": [{"if": {"properties": {tag: {"const": value, "description": f"a {value} step"}},
                          "required": [tag]},
                   "then": {"$ref": ref}}
                  for value, ref in sorted(mapping.items())],
    }


def _replace_discriminators(node: Any) -> Any:
    if isinstance(node, dict):
        if "discriminator" in node and "oneOf" in node:
            return _if_then(node)
        return {k: _replace_discriminators(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_discriminators(v) for v in node]
    return node


def journey_json_schema(schema_url: str = DEFAULT_SCHEMA_URL) -> dict[str, Any]:
    """The JSON Schema of a journey file; `schema_url` is where it is served (its `$id`)."""
    schema = Journey.model_json_schema()
    schema.pop("title", None)
    _describe("Journey", schema)
    for name, definition in schema.get("$defs", {}).items():
        _describe(name, definition)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_url,
        "title": "hplj-bot journey definition",
        "description": "A High Performance Learning Journey: its performance path, calendar and steps.",
        **_replace_discriminators(schema),
    }
