"""Before `up`: pull and build what `docker compose up` would (apply stage, inside the
Docker adapter's writes, state/docker/compose.py).

Which images, by Compose's own rules (state/model/images.py): those the services to be
brought up need pulled (`docker compose pull`; a failure ignored where the image can be
built instead) and those they need built (`docker compose build`, after the pulls, for
what is still missing or whose pull_policy is build). Compose's progress is shown on
stderr as it comes; `up` then runs with `--pull never --no-build`. A pull that cannot
succeed (no registry reachable) is one line naming the image, its service and the
registry's answer.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from state.docker.run import Commands
from state.docker.timeouts import Timeouts
from state.errors import PermanentError
from state.model.images import Need, image_name, needs


class ImageSide(Protocol):
    """What preparing images needs of the Compose side."""

    commands: Commands
    timeouts: Timeouts

    def compose_model(self) -> dict[str, Any]: ...

    def image_ids(self, references: Sequence[str]) -> dict[str, str]: ...

    def compose_line(self) -> list[str]: ...


def prepare(side: ImageSide, project: str, services: Sequence[str]) -> None:
    """Pull, then build, what `up SERVICES` needs; nothing (and no engine call) when
    every one of them has `pull_policy: never` and nothing to build."""
    everything: Mapping[str, Mapping[str, Any]] = side.compose_model().get("services") or {}
    if all(_settled(everything.get(name) or {}) for name in services):
        return
    images = {n: image_name(n, everything[n], project) for n in services if n in everything}
    present = frozenset(side.image_ids(sorted(set(images.values()))))
    wanted = {n: w for n, w in needs(everything, project, present).items() if n in images}
    for name, (image, need) in sorted(wanted.items()):
        if need is Need.MISSING:
            raise PermanentError(
                f"image {image} of service {name} is not on this engine, has no build and its "
                "pull_policy is never: build or load it first"
            )
    required = {n: w for n, w in wanted.items() if w[1] is Need.PULL}
    optional = {n: w for n, w in wanted.items() if w[1] is Need.PULL_OR_BUILD}
    _pull(side, required, required=True)
    _pull(side, optional, required=False)
    builds = {n for n, (_, need) in wanted.items() if need is Need.BUILD}
    if optional:  # built where the pull left the image missing, as Compose does
        now = frozenset(side.image_ids(sorted({images[n] for n in optional})))
        builds |= {n for n in optional if images[n] not in now}
    if builds:
        _show(side, ["build", *sorted(builds)], what="docker compose build", count=len(builds))


def _settled(raw: Mapping[str, Any]) -> bool:
    """An image `up` can only use as it is: pull_policy never and nothing to build."""
    return raw.get("pull_policy") == "never" and not raw.get("build")


def _pull(side: ImageSide, pulls: Mapping[str, tuple[str, Need]], *, required: bool) -> None:
    if not pulls:
        return
    flags = [] if required else ["--ignore-pull-failures"]
    names = sorted(pulls)
    ended = _run(side, ["pull", *flags, *names], what="docker compose pull", count=len(names))
    if ended.returncode != 0 and required:
        raise PermanentError(pull_error(ended.stderr or "", pulls))


def _show(side: ImageSide, args: list[str], *, what: str, count: int) -> None:
    ended = _run(side, args, what=what, count=count)
    if ended.returncode != 0:
        lines = [line.strip() for line in (ended.stderr or "").splitlines() if line.strip()]
        raise PermanentError(f"{what} failed: {lines[-1] if lines else 'no output'}")


def _run(side: ImageSide, args: list[str], *, what: str, count: int) -> Any:
    def echo(line: str) -> None:
        sys.stderr.write(line)
        sys.stderr.flush()

    return side.commands.run_shown(
        [*side.compose_line(), *args], what=what, bound=side.timeouts.fetch(count), echo=echo
    )


def pull_error(output: str, pulls: Mapping[str, tuple[str, Need]]) -> str:
    """One line: the image that could not be pulled, its service, the registry's answer."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for name in sorted(pulls):
        marker = f"{name} Error"
        answer = next((line for line in lines if line.startswith(marker)), None)
        if answer is not None:
            return _message(pulls[name][0], name, answer.removeprefix(marker).strip())
    name = sorted(pulls)[0]
    answer = lines[-1] if lines else "no answer"
    return _message(pulls[name][0], name, answer.removeprefix("Error response from daemon:"))


def _message(image: str, service: str, answer: str) -> str:
    return (
        f"cannot pull image {image} (service {service}): {answer.strip()}; make its registry "
        f"reachable, or put the image on this engine (`docker load`, or `docker tag` a local "
        "image with its name)"
    )
