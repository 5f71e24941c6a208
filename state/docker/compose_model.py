"""The part of Compose's resolved model the desire stage reads, checked as Compose answers.

`docker compose config --format json` is input the tool did not write: each service key
that state/model/desired.py and images.py read is validated here by pydantic
(imported only here) when Compose answers, before the model is used or cached
(reconciler/reads/config_cache.py keeps only what passed, so a cache hit is not checked
again). Every other key is allowed and left alone; the model is returned unchanged.
"""

from __future__ import annotations

from typing import Any

from state.errors import ConfigError, where_and_why


def checked(model: Any) -> dict[str, Any]:
    """`model` if its services have the shape the desire stage reads; ConfigError naming
    the first key that does not."""
    from pydantic import ValidationError  # here: only a fresh answer from Compose pays

    from state.docker.compose_shape import ComposeModel

    if not isinstance(model, dict):
        raise ConfigError(_problem("(top level)", "an object expected"))
    try:
        ComposeModel.model_validate(model)
    except ValidationError as exc:
        raise ConfigError(_problem(*where_and_why(exc.errors()))) from None
    return model


def _problem(where: str, why: str) -> str:
    return (
        f"`docker compose config` gave a model this tool cannot read at {where}: {why}; "
        "check `docker compose version` (Compose v2 is needed)"
    )
