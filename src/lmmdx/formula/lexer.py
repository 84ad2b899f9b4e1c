"""Tokenizer for lme4 model formulas.

Pure string processing: this module imports neither numpy, pandas nor formulaic.
It splits a formula into tokens that remember their position in the text and pairs
up brackets. The parser in :mod:`lmmdx.formula.parse` works on these tokens only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lmmdx.errors import FormulaError

__all__ = [
    "BACKTICK",
    "MAX_DEPTH",
    "NAME",
    "NUMBER",
    "OP",
    "STRING",
    "WORD_KINDS",
    "Token",
    "match_brackets",
    "tokenize",
    "unquote",
]

NAME = "name"
NUMBER = "number"
BACKTICK = "backtick"
STRING = "string"
OP = "op"

#: Token kinds that are operands on their own (as opposed to operators and brackets).
WORD_KINDS = frozenset({NAME, NUMBER, BACKTICK, STRING})

#: Deepest bracket nesting accepted; deeper formulas are rejected rather than recursed into.
MAX_DEPTH = 64

# An R or Python identifier: a letter, underscore or a dot not followed by a digit, then
# letters, digits, underscores and dots (so ``np.log`` and ``x.1`` are single names).
_NAME_RE = re.compile(r"(?:[^\W\d]|\.(?![0-9]))[\w.]*")
# A number, with an optional exponent and suffix letters (``1e-3``, ``2L``, ``0x1F``).
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\w*")
# Operators, longest first; ``%in%``-style R operators; bare ``%`` is Python's modulo.
_OP_RE = re.compile(r"%[\w./*]*%|\|\||\*\*|//|==|!=|<=|>=|<<|>>|&&|[~+\-*/:^|()\[\],=<>!&%@$]")
# A backtick-quoted name; a backslash escapes a backtick or a backslash inside it (as in R).
_BACKTICK_RE = re.compile(r"`(?:[^`\\]|\\.)*`", re.DOTALL)
_STRING_RES = {
    "'": re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL),
}
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a formula.

    Attributes
    ----------
    kind : str
        One of :data:`NAME`, :data:`NUMBER`, :data:`BACKTICK`, :data:`STRING`, :data:`OP`.
    text : str
        The token exactly as written (backticks and quotes included).
    pos : int
        0-based position of the token's first character in the formula.
    """

    kind: str
    text: str
    pos: int

    @property
    def end(self) -> int:
        """Position just after the token's last character."""
        return self.pos + len(self.text)

    def is_op(self, *texts: str) -> bool:
        """Whether the token is an operator or bracket spelled as one of ``texts``."""
        return self.kind == OP and self.text in texts


def tokenize(text: str) -> list[Token]:
    """Split a formula into tokens, skipping whitespace.

    Parameters
    ----------
    text : str
        The formula.

    Returns
    -------
    list of Token
        The tokens in order.

    Raises
    ------
    FormulaError
        For an unterminated or empty backtick-quoted name, an unterminated string
        or a character that cannot occur in a formula.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "`":
            match = _BACKTICK_RE.match(text, i)
            if match is None:
                raise FormulaError("unterminated backtick-quoted name", text, i)
            if match.end() == i + 2:
                raise FormulaError("empty backtick-quoted name", text, i)
            tokens.append(Token(BACKTICK, match.group(), i))
            i = match.end()
            continue
        if ch in _STRING_RES:
            match = _STRING_RES[ch].match(text, i)
            if match is None:
                raise FormulaError("unterminated string", text, i)
            kind = STRING
        else:
            for kind, pattern in ((NUMBER, _NUMBER_RE), (NAME, _NAME_RE), (OP, _OP_RE)):
                match = pattern.match(text, i)
                if match is not None:
                    break
            else:
                raise FormulaError(f"unexpected character {ch!r}", text, i)
        tokens.append(Token(kind, match.group(), i))
        i = match.end()
    return tokens


def match_brackets(tokens: Sequence[Token], text: str) -> list[int]:
    """Pair every opening bracket with its closing bracket.

    Parameters
    ----------
    tokens : sequence of Token
        The tokens of ``text``.
    text : str
        The formula, for error messages.

    Returns
    -------
    list of int
        For each token, the index of its partner bracket, or -1 for a non-bracket.

    Raises
    ------
    FormulaError
        At an unmatched or mismatched closing bracket, at the innermost opening
        bracket left unclosed, or where nesting exceeds :data:`MAX_DEPTH`.
    """
    partner = [-1] * len(tokens)
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind != OP:
            continue
        if token.text in _OPENERS:
            if len(stack) >= MAX_DEPTH:
                raise FormulaError(f"brackets nested more than {MAX_DEPTH} deep", text, token.pos)
            stack.append(index)
        elif token.text in _CLOSERS:
            if not stack:
                raise FormulaError(f"unmatched {token.text!r}", text, token.pos)
            opener = stack.pop()
            if tokens[opener].text != _CLOSERS[token.text]:
                raise FormulaError(
                    f"{token.text!r} does not close the {tokens[opener].text!r} "
                    f"at position {tokens[opener].pos + 1}",
                    text,
                    token.pos,
                )
            partner[opener], partner[index] = index, opener
    if stack:
        opener = stack[-1]
        raise FormulaError(f"unclosed {tokens[opener].text!r}", text, tokens[opener].pos)
    return partner


def unquote(token: Token) -> str:
    """The name a backtick-quoted token stands for (escaped backticks and backslashes resolved)."""
    inner = token.text[1:-1]
    return re.sub(r"\\([`\\])", r"\1", inner)
