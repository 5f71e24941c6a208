"""The one place that knows secret values, so that no output shows them (all stages).

A variable whose name contains PASSWORD, SECRET, TOKEN, KEY or CREDENTIAL (any case)
is secret. Its value is remembered when the resolve stage reads the env file and the
process environment, and when the desire stage reads the compose model's service
environments; the CLI passes everything it writes (stdout, stderr, the -v log)
through `redact` (reconciler/cli/redaction.py). Values shorter than 6 characters are not
masked: hiding every "spot" (the stack's public default password, and its project
name) would garble the output and protect nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

MASK = "****"
MIN_LENGTH = 6
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)

_known: set[str] = set()


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def secret_values(variables: Mapping[str, object]) -> set[str]:
    """The values of the secret-looking names among `variables` (strings only)."""
    return {
        value
        for name, value in variables.items()
        if isinstance(value, str) and len(value) >= MIN_LENGTH and is_secret_name(name)
    }


def remember(variables: Mapping[str, object]) -> None:
    """Add the secret values among `variables` to those every output is cleaned of."""
    remember_values(secret_values(variables))


def remember_values(values: Iterable[str]) -> None:
    """Remember each value as written, JSON-escaped, and with `$` doubled as Compose prints it."""
    for value in values:
        if len(value) >= MIN_LENGTH:
            _known.update(
                {
                    value,
                    json.dumps(value)[1:-1],
                    json.dumps(value, ensure_ascii=False)[1:-1],
                    value.replace("$", "$$"),
                }
            )


def forget_all() -> None:
    """For tests: start from no known secret."""
    _known.clear()


def redact(text: str) -> str:
    """`text` with every known secret value replaced by ****, longest values first."""
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text
