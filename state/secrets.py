"""The one place that knows secret values, so that no output shows them (all stages).

A variable whose name contains PASSWORD, SECRET, TOKEN, KEY or CREDENTIAL (any case)
is secret. Its value is remembered when the resolve stage reads the env file and the
process environment, when the desire stage reads the compose model's service
environments, and when `logs` reads the containers' environments; the CLI passes
everything it writes (stdout, stderr, the -v log) through `redact`
(reconciler/cli/redaction.py).

A value of 6 characters or more is masked wherever it stands on its own, not as part
of a longer name (a project's secret `sentry` leaves `sentry-cleanup` readable). A
shorter one (the stack's default password `spot`, a 4-character password) is masked
wherever it appears *as a value*: after a secret-looking key (`KEY=value`, `KEY: value`,
`"KEY": "value"`) and as the password of a URL (`://user:value@`). Names stay readable:
`spot-db-1` and `project spot` are names, not values. A secret equal to a service's or
the project's name, or to a part of an image's name (a password `postgres` beside a
service or an image `.../postgres:14`), is not masked at all: the name is public, and
hiding it would hide the plan (`spare`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

MASK = "****"
MIN_LENGTH = 6  # shorter values are masked only where they stand as a value
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
# A key that holds a secret, as logs and configs write it (also pass, pwd: PGPASS, db_pwd).
_KEY = r"[\w.-]*(?:PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PASS|PWD)[\w.-]*"
_END = r"(?=[\"'\s,;&}\])]|$)"

_known: set[str] = set()
_short: set[str] = set()
_names: set[str] = set()  # public names (services, the project): never a secret to mask


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def secret_values(variables: Mapping[str, object]) -> set[str]:
    """The values of the secret-looking names among `variables` (non-empty strings)."""
    return {
        value
        for name, value in variables.items()
        if isinstance(value, str) and value and is_secret_name(name)
    }


def remember(variables: Mapping[str, object]) -> None:
    """Add the secret values among `variables` to those every output is cleaned of."""
    remember_values(secret_values(variables))


def remember_values(values: Iterable[str]) -> None:
    """Remember each value as written, JSON-escaped, and with `$` doubled as Compose prints it."""
    for value in values:
        if not value or value in _names:
            continue
        forms = {
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            value.replace("$", "$$"),
        }
        (_known if len(value) >= MIN_LENGTH else _short).update(forms)


def spare(names: Iterable[str]) -> None:
    """These are names everyone sees (services, the project): a secret that happens to
    be one of them is not masked, or the plan's every line would hide them."""
    spared = set(names)
    _names.update(spared)
    for value in spared:
        for form in (value, json.dumps(value)[1:-1]):
            _known.discard(form)
            _short.discard(form)


def image_name_parts(reference: str) -> set[str]:
    """The public words of an image reference: its registry, path and name parts
    (`ghcr.io/immich-app/postgres:14@sha256:...` -> ghcr.io, immich-app, postgres)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1])] + last[-1].split(":", 1)[0]
    return {part for part in name.split("/") if part}


def forget_all() -> None:
    """For tests: start from no known secret."""
    _known.clear()
    _short.clear()
    _names.clear()


def redact(text: str) -> str:
    """`text` with every known secret value replaced by ****: long values wherever they
    are, longest first; short ones where they stand as a value."""
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = _standing(value).sub(MASK, text)
    for value in sorted(_short, key=len, reverse=True):
        if value in text:
            text = _as_value(value).sub(_masked, text)
    return text


_NAME_CHAR = r"[A-Za-z0-9_.-]"


def _standing(value: str) -> re.Pattern[str]:
    """`value` where it is not part of a longer name (letters, digits, `_`, `.`, `-`
    around it)."""
    before = f"(?<!{_NAME_CHAR})" if re.match(_NAME_CHAR, value[0]) else ""
    after = f"(?!{_NAME_CHAR})" if re.match(_NAME_CHAR, value[-1]) else ""
    return re.compile(before + re.escape(value) + after)


def _masked(match: re.Match[str]) -> str:
    """The match's prefix (the key, or the URL up to the password), then the mask."""
    return next(group for group in match.groups() if group is not None) + MASK


def _as_value(value: str) -> re.Pattern[str]:
    v = re.escape(value)
    return re.compile(
        rf"((?i:{_KEY})[ \t]*[=:][ \t]*[\"']?){v}{_END}"  # KEY=value, KEY: value, KEY="value"
        rf"|((?i:\"{_KEY}\")[ \t]*:[ \t]*\"){v}(?=\")"  # "KEY": "value"
        rf"|(://[^\s:/@]+:){v}(?=@)"  # scheme://user:value@host
    )
