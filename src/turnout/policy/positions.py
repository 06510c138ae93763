"""Where each statement sits in a policy document's text (``json.loads`` does not say).

A small scanner walks the JSON text, finds the top-level ``"Statement"`` member and returns the span of each
statement object: the 1-based line and column of its ``{`` and of its ``}`` (both inclusive). It only needs
to be right for text that ``json.loads`` accepted; on anything unexpected it returns no spans.
"""

from __future__ import annotations

from bisect import bisect_right

from turnout.policy.model import Position

Span = tuple[Position, Position]
_WHITESPACE = " \t\r\n"


class _Unexpected(Exception):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = 0

    def skip(self) -> None:
        text, index = self.text, self.index
        while index < len(text) and text[index] in _WHITESPACE:
            index += 1
        self.index = index

    def peek(self) -> str:
        self.skip()
        if self.index >= len(self.text):
            raise _Unexpected
        return self.text[self.index]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Unexpected
        self.index += 1

    def string(self) -> str:
        self.expect('"')
        text, index = self.text, self.index
        out: list[str] = []
        while index < len(text):
            char = text[index]
            if char == '"':
                self.index = index + 1
                return "".join(out)
            if char == "\\":
                out.append(text[index:index + 2])
                index += 2
                continue
            out.append(char)
            index += 1
        raise _Unexpected

    def value(self) -> tuple[int, int]:
        """Skip one JSON value; returns its (start, end) offsets, end inclusive."""
        start_char = self.peek()
        start = self.index
        if start_char == '"':
            self.string()
        elif start_char == "{":
            self.index += 1
            if self.peek() == "}":
                self.index += 1
                return start, self.index - 1
            while True:
                self.string()
                self.expect(":")
                self.value()
                if self.peek() == ",":
                    self.index += 1
                    continue
                self.expect("}")
                break
        elif start_char == "[":
            self.elements()
        else:
            text, index = self.text, self.index
            while index < len(text) and text[index] not in ",]} \t\r\n":
                index += 1
            if index == self.index:
                raise _Unexpected
            self.index = index
        return start, self.index - 1

    def elements(self) -> list[tuple[int, int]]:
        self.expect("[")
        spans: list[tuple[int, int]] = []
        if self.peek() == "]":
            self.index += 1
            return spans
        while True:
            spans.append(self.value())
            if self.peek() == ",":
                self.index += 1
                continue
            self.expect("]")
            return spans


def statement_spans(text: str) -> list[Span]:
    """The spans of the statement objects of a policy document, in order (empty if none can be found)."""
    scanner = _Scanner(text)
    spans: list[tuple[int, int]] = []
    try:
        scanner.expect("{")
        if scanner.peek() != "}":
            while True:
                key = scanner.string()
                scanner.expect(":")
                if key == "Statement":
                    if scanner.peek() == "[":
                        spans = [span for span in scanner.elements() if text[span[0]] == "{"]
                    else:
                        found = scanner.value()
                        spans = [found] if text[found[0]] == "{" else []
                else:
                    scanner.value()
                if scanner.peek() == ",":
                    scanner.index += 1
                    continue
                break
    except _Unexpected:
        return []
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    def position(offset: int) -> Position:
        line = bisect_right(line_starts, offset)
        return Position(line, offset - line_starts[line - 1] + 1)

    return [(position(start), position(end)) for start, end in spans]
