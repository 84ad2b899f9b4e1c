"""Tokenizer for lme4 model formulas.

Pure string processing: this module imports neither numpy, pandas nor formulaic.
It splits a formula into tokens that remember their position in the text, pairs
up brackets, and renders token runs back to text with normalised whitespace.
The parser in :mod:`lmmdx.formula.parse` works on these tokens only.
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
    "is_syntactic_name",
    "match_brackets",
    "quote_name",
    "render",
    "tokenize",
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
_STRING_RES = {
    "'": re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL),
}
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}
# Binary operators rendered with one space on each side; all others are rendered tight.
_SPACED = frozenset(
    {"~", "+", "-", "*", "/", "//", "|", "||", "==", "!=", "<", "<=", ">", ">=", "&", "&&", "<<", ">>", "%"}
)
_PREFIX = frozenset({"+", "-", "~", "!"})


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
            close = text.find("`", i + 1)
            if close < 0:
                raise FormulaError("unterminated backtick-quoted name", text, i)
            if close == i + 1:
                raise FormulaError("empty backtick-quoted name", text, i)
            tokens.append(Token(BACKTICK, text[i : close + 1], i))
            i = close + 1
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


def _spaced(op: str) -> bool:
    """Whether a binary operator is rendered with a space on each side."""
    return op in _SPACED or (len(op) > 1 and op[0] == "%")


def _is_prefix(previous: Token | None, token: Token) -> bool:
    """Whether ``token`` is a unary (prefix) operator given the token before it."""
    if token.kind != OP or token.text not in _PREFIX:
        return False
    if token.text == "!" or previous is None:
        return True
    return previous.kind == OP and previous.text not in (")", "]")


def _gap(previous: Token, previous_prefix: bool, token: Token, prefix: bool) -> str:
    """The whitespace to put between two rendered tokens."""
    if previous.kind in WORD_KINDS and token.kind in WORD_KINDS:
        # Words written touching (``f"..."``, ``b'...'``) stay touching.
        return "" if previous.end == token.pos else " "
    if previous.kind == OP and token.kind == OP:
        joined = _OP_RE.match(previous.text + token.text)
        if joined is not None and joined.end() != len(previous.text):
            return " "  # never glue two operators into a different one
    if previous_prefix:
        return ""
    if previous.is_op(","):
        return " "
    if previous.kind == OP and _spaced(previous.text):
        return " "
    if token.kind == OP and not prefix and _spaced(token.text):
        return " "
    return ""


def render(tokens: Sequence[Token]) -> str:
    """Render tokens as text with normalised whitespace.

    Binary ``+ - * / | ~``, comparisons and ``%op%`` get one space on each side, a
    comma one space after it; ``: ^ ** =``, brackets and prefix operators none.
    Only whitespace between tokens changes, so the meaning of the text does not.

    Parameters
    ----------
    tokens : sequence of Token
        A run of tokens, rendered as if it started an expression.

    Returns
    -------
    str
        The text, e.g. ``"log(x + 1)"`` for the tokens of ``log( x+1 )``.
    """
    parts: list[str] = []
    previous: Token | None = None
    previous_prefix = False
    for token in tokens:
        prefix = _is_prefix(previous, token)
        if previous is not None:
            parts.append(_gap(previous, previous_prefix, token, prefix))
        parts.append(token.text)
        previous, previous_prefix = token, prefix
    return "".join(parts)


def is_syntactic_name(name: str) -> bool:
    """Whether ``name`` can be written without backticks.

    Parameters
    ----------
    name : str
        A column name.

    Returns
    -------
    bool
        True for names such as ``g``, ``plate.id`` or ``site_2``.
    """
    return _NAME_RE.fullmatch(name) is not None


def quote_name(name: str) -> str:
    """Write a column name as lme4 prints it, in backticks if it is not syntactic.

    Parameters
    ----------
    name : str
        A column name.

    Returns
    -------
    str
        ``name`` itself, or ``"`name`"`` for names such as ``my g``.
    """
    return name if is_syntactic_name(name) else f"`{name}`"
