"""Render, for `reconcile watch`: why a pass runs, in words (the plan and the outcome
are rendered by reconciler/render/plans.py as for every command).

One phrase per container or file, in the order they came; a container's burst of
events is named by its most telling one (removed, out of memory, stopped, died...).
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.watch.inputs import InputChanged
from state.docker.events import ContainerEvent, StreamLost


def describe(triggers: Sequence[ContainerEvent | StreamLost | InputChanged]) -> str:
    """Why a pass runs, in words: one phrase per container or file, in order."""
    per_container: dict[str, list[ContainerEvent]] = {}
    phrases: list[str] = []
    for trigger in triggers:
        if isinstance(trigger, ContainerEvent):
            if trigger.container not in per_container:
                per_container[trigger.container] = []
                phrases.append(trigger.container)
            per_container[trigger.container].append(trigger)
        elif isinstance(trigger, InputChanged):
            phrase = f"{trigger.path} {trigger.what}"
            if phrase not in phrases:
                phrases.append(phrase)
        else:
            phrases.append(f"engine event stream restarted ({trigger.reason})")
    return ", ".join(
        _container_phrase(per_container[p]) if p in per_container else p for p in phrases
    )


_RANK = ("destroy", "oom", "stop", "die", "kill", "pause", "rename", "create", "start")
_WORDS = {
    "destroy": "was removed",
    "oom": "ran out of memory",
    "stop": "was stopped",
    "kill": "was killed",
    "pause": "was paused",
    "rename": "was renamed",
    "create": "was created",
    "start": "started",
}


def _container_phrase(events: list[ContainerEvent]) -> str:
    actions = {e.action for e in events}
    action = next(a for a in _RANK if a in actions)
    name = events[0].container
    if action == "die":
        code = next((e.exit_code for e in events if e.action == "die"), None)
        return f"container {name} died" + (f" (exit code {code})" if code is not None else "")
    return f"container {name} {_WORDS[action]}"
