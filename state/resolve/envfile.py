"""Read an env file exactly as Compose reads it (resolve stage, before APP_ENV is picked).

A port of compose-go v2.9.1 `dotenv/parser.go` (inside Compose 2.40), written from its
source; `tests/property/test_envfile_differential.py` compares it with the real
Compose binary on generated files. python-dotenv disagreed with Compose on too much
to be made to agree (`KEY: value`, `'dev'x`, interpolation, lines Compose rejects).

What Compose does, and so what this does:
- bytes, not text: a UTF-8 BOM is skipped, an invalid byte stays in its value (here as
  a surrogate escape) and is never a letter, so it is an error only inside a key;
- `KEY=value`, `KEY: value`, `export KEY=value`; `#` starts a comment line;
- unquoted values end at the line's end, ` #` starts a comment, trailing spaces go;
- 'single quotes' are literal, "double quotes" take escapes (`\\n`, `\\$`, `\\0123`);
  both may span lines, and whatever follows the closing quote is read as a new line;
- unquoted and double-quoted values are interpolated (state/resolve/interpolate.py), looking
  names up in the process environment first, then in the lines above;
- a line holding only `KEY` copies KEY from the process environment or the lines above;
- a key with a space or a character other than letters, digits and `_.-[]`, an
  unclosed quote and an invalid `${` fail the whole file.
Errors name the line and never show a value. The file is never written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from state.resolve.interpolate import TemplateError, substitute

_BOM = b"\xef\xbb\xbf"
_EXPORT = re.compile(r"export[\t\n\f\r ]")  # Go's \s is ASCII whitespace without \v
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
}
_KEY_PUNCTUATION = "_.-[]"


class EnvFileError(ValueError):
    """Compose cannot read the file either: which line, and why (no value in the message)."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(f"line {line}: {why}")
        self.line = line
        self.why = why


@dataclass(frozen=True)
class Binding:
    """One variable as the file sets it: the value that wins, and the line that set it."""

    key: str
    value: str
    line: int


def decode(data: bytes) -> str:
    """The file's text as Go sees it: BOM skipped, invalid bytes kept as surrogate escapes."""
    return data.removeprefix(_BOM).decode("utf-8", "surrogateescape")


def parse(data: bytes, environ: Mapping[str, str]) -> dict[str, Binding]:
    """Every variable the file sets, as Compose reads it. EnvFileError when Compose fails."""
    return _Parser(decode(data), environ).run()


def _is_space(char: str) -> bool:
    """Go's unicode.IsSpace (Python's isspace also counts the separators \\x1c-\\x1f)."""
    return char in "\t\n\v\f\r \x85\xa0" or (char > "\xff" and char.isspace())


def _is_inline_space(char: str) -> bool:
    """The parser's own isSpace: blanks that do not end a line."""
    return char in "\t\v\f\r \x85\xa0"


def _is_key_char(char: str) -> bool:
    category = unicodedata.category(char)
    return char in _KEY_PUNCTUATION or category[0] in "LN"


class _Parser:
    def __init__(self, text: str, environ: Mapping[str, str]) -> None:
        self.text = text
        self.environ = environ
        self.out: dict[str, Binding] = {}

    def lookup(self, key: str) -> str | None:
        if key in self.environ:
            return self.environ[key]
        binding = self.out.get(key)
        return binding.value if binding else None

    def line_at(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def run(self) -> dict[str, Binding]:
        pos: int | None = 0
        while (pos := self.statement_start(pos or 0)) is not None:
            line = self.line_at(pos)
            key, pos, inherited = self.key(pos, line)
            if " " in key:
                raise EnvFileError(
                    line, "a variable name contains a space (a line that is no KEY=value?)"
                )
            if inherited:  # from the process environment; from above it stays as it is
                if key in self.environ:
                    self.out[key] = Binding(key, self.environ[key], line)
                continue
            value, pos = self.value(pos, line, key)
            self.out[key] = Binding(key, value, line)
        return self.out

    def statement_start(self, pos: int) -> int | None:
        """The next character that is neither blank nor inside a comment line."""
        text = self.text
        while True:
            while pos < len(text) and _is_space(text[pos]):
                pos += 1
            if pos >= len(text):
                return None
            if text[pos] != "#":
                return pos
            pos = text.find("\n", pos)
            if pos == -1:
                return None

    def key(self, pos: int, line: int) -> tuple[str, int, bool]:
        """The key at `pos`, where its value starts, and whether it has no value at all."""
        text = self.text
        if _EXPORT.match(text, pos):
            pos += len("export")
            while pos < len(text) and _is_inline_space(text[pos]):
                pos += 1
        if pos >= len(text):
            raise EnvFileError(line, "`export` without a variable")
        start, key, after, inherited = pos, "", pos, False
        for i in range(pos, len(text)):
            char = text[i]
            if _is_inline_space(char):
                continue
            if char in "=:\n":
                key, after, inherited = text[start:i], i + 1, char == "\n"
                break
            if not _is_key_char(char):
                raise EnvFileError(
                    line,
                    f"unexpected character {_shown(char)} in a variable name "
                    "(names hold letters, digits and _.-[])",
                )
        while key and _is_space(key[-1]):
            key = key[:-1]
        while after < len(text) and _is_inline_space(text[after]):
            after += 1
        return key, after, inherited

    def value(self, pos: int, line: int, key: str) -> tuple[str, int]:
        """The value starting at `pos` and where the next statement may start."""
        text = self.text
        quote = text[pos] if pos < len(text) and text[pos] in "\"'" else ""
        if not quote:
            end = text.find("\n", pos)
            raw, after = (text[pos:], len(text)) if end == -1 else (text[pos:end], end + 1)
            raw = raw.split(" #", 1)[0]
            while raw and _is_space(raw[-1]):
                raw = raw[:-1]
            return self.expand(raw, line, key), after
        chars: list[str] = []
        escaped = False
        for i in range(pos + 1, len(text)):
            char = text[i]
            if char != quote:
                if not escaped and char == "\\":
                    escaped = True
                    continue
                if escaped:
                    escaped = False
                    chars.append("\\")
                chars.append(char)
                continue
            if escaped:
                escaped = False
                chars.append(char)
                continue
            value = "".join(chars)
            if quote == '"':
                value = self.expand(_expand_escapes(value), line, key)
            return value, i + 1
        raise EnvFileError(line, f"the quoted value of {_shown(key)} has no closing {quote}")

    def expand(self, value: str, line: int, key: str) -> str:
        try:
            return substitute(value, self.lookup)
        except TemplateError as exc:
            raise EnvFileError(
                line, f"the value of {_shown(key)} has {exc}; write $$ for a literal $"
            ) from None


def _expand_escapes(value: str) -> str:
    return _ESCAPE.sub(lambda match: _unescape(match.group(0)), value)


def _unescape(sequence: str) -> str:
    """One escape of a double-quoted value, as Compose's expandEscapes turns it."""
    if sequence == "\\$":
        return "$$"  # a literal $ for the interpolation that follows
    if sequence.startswith("\\0"):
        sequence = "\\" + sequence[2:]  # Go's octal escapes have no leading 0
    body = sequence[1:]
    if body in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[body]
    if len(body) >= 3 and all(c in "01234567" for c in body[:3]) and int(body[:3], 8) <= 255:
        return chr(int(body[:3], 8))
    return sequence  # Go's UnquoteChar refuses it: the text stays as it is


def _shown(text: str) -> str:
    """A key or character for a message: quoted, anything not printable ASCII escaped."""
    return "'" + escape_non_ascii(text) + "'"


def escape_non_ascii(text: str) -> str:
    r"""Non-ASCII shown escaped so lookalikes differ: Cyrillic e -> `\u0435`, 0xff -> `\xff`."""
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogate escape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)
