"""`${VAR:-default}` in env-file values, exactly as Compose expands them (resolve stage).

A port of compose-go v2.9.1 `template/template.go` (the library inside Compose 2.40),
written from its source so that the reconciler and Compose give an env file the same
values: `$$` is a literal `$`; `$NAME` and `${NAME}` look the name up; `${NAME:-x}`,
`${NAME-x}`, `${NAME:+x}`, `${NAME+x}`, `${NAME:?msg}` and `${NAME?msg}` do what the
shell does; a `$` followed by anything else stays literal; `${` that does not form one
of these is an error. A variable that is not set expands to "". Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str], str | None]

# Go's (?i)[_a-z] also folds the long s (U+017F) and the Kelvin sign (U+212A) onto
# s and k; Python's IGNORECASE would add two Turkish i's as well, so spell it out.
_LETTER = "_A-Za-z\u017f\u212a"
_NAME = f"[{_LETTER}][{_LETTER}0-9]*"
_PATTERN = re.compile(
    rf"\$(?:(?P<escaped>\$)|(?P<named>{_NAME})|\{{(?:(?P<braced>{_NAME}(?::?[-+?](.*))?)\}}"
    r"|(?P<invalid>)))"
)
_SEPARATORS = (":?", "?", ":-", "-", ":+", "+")


class TemplateError(ValueError):
    """The value is not a valid template; the message never contains the value."""


def substitute(template: str, lookup: Lookup) -> str:
    """Expand every `$` reference in `template`; TemplateError when Compose would fail."""
    return _PATTERN.sub(lambda match: _replace(match.group(0), lookup), template)


def _replace(substring: str, lookup: Lookup) -> str:
    separator = _first_separator(substring)
    closing = _first_brace_closing_index(substring)
    rest = ""
    if closing > -1:
        rest = substring[closing + 1 :]
        substring = substring[: closing + 1]
    match = _PATTERN.search(substring)
    assert match is not None  # a prefix of a match that starts with `${` or `$NAME`
    if match.group("escaped"):
        return "$"
    name = match.group("named")
    braced = not name
    if braced:
        name = match.group("braced")
    if not name:
        raise TemplateError("`${` that is not `${NAME}`, `${NAME:-default}` or the like")
    if braced:
        applied = _apply(separator, name, lookup)
        if applied is not None:
            return applied + substitute(rest, lookup)
    return lookup(name) or ""


def _first_separator(substring: str) -> str:
    """The operator Compose picks: the one found earliest in the whole match (`:?` if none)."""
    found = [(substring.find(sep), sep) for sep in _SEPARATORS if sep in substring]
    return min(found)[1] if found else _SEPARATORS[0]


def _first_brace_closing_index(text: str) -> int:
    depth = 0
    i = 0
    while i < len(text):
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        if text[i] == "{":
            depth += 1
            i += 1
        i += 1
    return -1


def _apply(separator: str, substitution: str, lookup: Lookup) -> str | None:
    """The value of `${substitution}` under `separator`, or None when it does not apply."""
    if separator not in substitution:
        return None
    name, argument = substitution.split(separator, 1)
    argument = substitute(argument, lookup)
    value = lookup(name)
    match separator:
        case ":-":
            return value if value else argument
        case "-":
            return argument if value is None else value
        case ":+":
            return argument if value else ""
        case "+":
            return argument if value is not None else ""
        case _:  # ":?" and "?": required
            if value is None or (separator == ":?" and value == ""):
                raise TemplateError(f"required variable {name} is missing a value")
            return value
