"""Parse lme4 model formulas into :class:`~lmmdx.formula.terms.ModelFormula`.

Pure string processing: this module imports neither numpy, pandas nor formulaic.
The right-hand side is split at its top-level ``+`` and ``-`` into terms; a term
that is a parenthesised group with a top-level ``|`` or ``||`` is a random-effects
term, every other term is fixed. ``||`` and ``/`` are expanded as lme4 does, and
intercepts are made explicit (``"1 + x"``, ``"0 + x"``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from lmmdx.errors import FormulaError
from lmmdx.formula.lexer import BACKTICK, NAME, NUMBER, OP, match_brackets, quote_name, render, tokenize
from lmmdx.formula.terms import ModelFormula, RandomTerm

__all__ = ["parse_formula"]

_BARS = ("|", "||")
_TERM_OPS = frozenset({"*", "/", ":", "^", "**"})
_NOT_IN_DOUBLE_BAR = frozenset({"/", "^", "**"})
_NESTED = "random-effects terms such as (1 | g) must be added at the top level of the right-hand side"


class _Part(NamedTuple):
    """One additive term: its sign, its token range and the operator before it (else its start)."""

    sign: int
    lo: int
    hi: int
    op: int


def parse_formula(text: str) -> ModelFormula:
    """Parse an lme4 formula.

    Parameters
    ----------
    text : str
        A formula such as ``"Reaction ~ Days + (Days | Subject)"``.

    Returns
    -------
    ModelFormula
        The response, the fixed part as a formulaic right-hand side with the
        intercept explicit, and the random terms with ``||`` and ``/`` expanded.
        A formula without random terms is returned with ``random == ()``.

    Raises
    ------
    FormulaError
        If the formula cannot be parsed or uses unsupported syntax; the message
        names the 0-based position of the offending character (printed 1-based).

    Examples
    --------
    >>> f = parse_formula("y ~ x + (x || g)")
    >>> f.fixed, [t.text for t in f.random]
    ('1 + x', ['(1 | g)', '(0 + x | g)'])
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, not {type(text).__name__}")
    return _parse_cached(text)


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> ModelFormula:
    """:func:`parse_formula` without the type check (parsing is pure, so it is cached)."""
    return _Parser(text).parse()


def _linear_text(intercept: bool, terms: list[tuple[int, str]]) -> str:
    """Join signed terms after an explicit intercept: ``"1 + x - z"``, ``"0 + x"``, ``"1"``."""
    return ("1" if intercept else "0") + "".join(f" {'+' if s > 0 else '-'} {t}" for s, t in terms)


def _is_r_op(text: str) -> bool:
    """Whether an operator token is an R ``%op%`` such as ``%in%``."""
    return len(text) > 1 and text.startswith("%")


class _Parser:
    """Recursive-descent checks over the tokens of one formula."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.match = match_brackets(self.tokens, text)

    def error(self, message: str, index: int) -> FormulaError:
        """A :class:`FormulaError` pointing at token ``index``."""
        return FormulaError(message, self.text, self.tokens[index].pos)

    def is_op(self, index: int, *texts: str) -> bool:
        """Whether token ``index`` is one of the operators ``texts``."""
        return self.tokens[index].is_op(*texts)

    def top_level(self, lo: int, hi: int) -> Iterator[int]:
        """Indices of the tokens in ``[lo, hi)`` outside brackets (openers included)."""
        i = lo
        while i < hi:
            yield i
            i = self.match[i] + 1 if self.is_op(i, "(", "[") else i + 1

    def parse(self) -> ModelFormula:
        """Parse the whole formula."""
        toks = self.tokens
        if not toks:
            raise FormulaError("the formula is empty", self.text, 0)
        tildes = [i for i, t in enumerate(toks) if t.is_op("~")]
        if not tildes:
            raise FormulaError("the formula has no '~' between the response and the predictors", self.text, 0)
        if len(tildes) > 1:
            raise self.error("the formula has more than one '~'", tildes[1])
        tilde = tildes[0]
        top = list(self.top_level(0, len(toks)))
        if tilde not in top:
            raise self.error("'~' must be at the top level of the formula, not inside brackets", tilde)
        for i in top:
            if self.is_op(i, *_BARS):
                raise self.error(f"{toks[i].text!r} outside parentheses: write (lhs | group)", i)
        if tilde == 0:
            raise self.error("the response (left of '~') is empty", tilde)
        if tilde == len(toks) - 1:
            raise self.error("the right-hand side (right of '~') is empty", tilde)
        self.reject_bars(0, tilde)
        self.check_term(0, tilde, "response")
        intercept, parts, random = self.linear(tilde + 1, len(toks), "the right-hand side")
        fixed = _linear_text(intercept, [(p.sign, render(toks[p.lo : p.hi])) for p in parts])
        return ModelFormula(text=self.text, response=render(toks[:tilde]), fixed=fixed, random=tuple(random))

    def split_additive(self, lo: int, hi: int, what: str) -> list[_Part]:
        """Split ``[lo, hi)`` at its top-level ``+`` and ``-``; a leading ``-`` and ``+ -`` are allowed."""
        parts: list[_Part] = []
        sign, start, op = 1, lo, None
        for i in self.top_level(lo, hi):
            if not self.is_op(i, "+", "-"):
                continue
            minus = self.tokens[i].text == "-"
            if i > start:
                parts.append(_Part(sign, start, i, start if op is None else op))
            elif i == lo:
                if not minus:
                    raise self.error(f"{what} starts with '+'", i)
            elif not (minus and op is not None and self.is_op(op, "+")):
                raise self.error(f"a term is missing before {self.tokens[i].text!r}", i)
            sign, start, op = (-1 if minus else 1), i + 1, i
        if start >= hi:
            if op is None:
                raise self.error(f"{what} is empty", min(lo, len(self.tokens) - 1))
            raise self.error(f"{what} ends with {self.tokens[op].text!r}", op)
        parts.append(_Part(sign, start, hi, start if op is None else op))
        return parts

    def linear(self, lo: int, hi: int, what: str) -> tuple[bool, list[_Part], list[RandomTerm]]:
        """Split an additive expression into its intercept, fixed terms and random terms."""
        intercept, parts, random = True, [], []
        for part in self.split_additive(lo, hi, what):
            inner = self.random_inner(part.lo, part.hi)
            if inner is not None:
                if part.sign < 0:
                    raise self.error("a random-effects term cannot be subtracted; add it with '+'", part.op)
                random.extend(self.parse_random(*inner))
                continue
            self.reject_bars(part.lo, part.hi)
            token = self.tokens[part.lo]
            if part.hi - part.lo > 1 or token.kind != NUMBER:
                self.check_term(part.lo, part.hi)
                parts.append(part)
            elif token.text in ("0", "1"):
                intercept = (token.text == "1") == (part.sign > 0)
            else:
                raise self.error(f"{token.text!r} is not a valid term: only 0 and 1 may stand alone", part.lo)
        return intercept, parts, random

    def random_inner(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The inside of a parenthesised term with a top-level bar, redundant parentheses removed."""
        while lo < hi and self.is_op(lo, "(") and self.match[lo] == hi - 1:
            lo, hi = lo + 1, hi - 1
            if any(self.is_op(i, *_BARS) for i in self.top_level(lo, hi)):
                return lo, hi
        return None

    def reject_bars(self, lo: int, hi: int) -> None:
        """Raise at the first ``|`` or ``||`` in ``[lo, hi)``, at any depth."""
        for i in range(lo, hi):
            if self.is_op(i, *_BARS):
                raise self.error(_NESTED, i)

    def check_term(self, lo: int, hi: int, what: str = "term") -> None:
        """Check that ``[lo, hi)`` alternates operands and binary operators at its top level.

        Operands are names, numbers, strings, calls, subscripts and parenthesised
        expressions (checked recursively); a response may not contain operators.
        """
        toks = self.tokens
        expect_operand, last_op, i = True, None, lo
        while i < hi:
            token = toks[i]
            if expect_operand:
                if token.kind != OP:
                    callable_ = token.kind in (NAME, BACKTICK)
                    i += 1
                elif token.is_op("("):
                    if self.match[i] == i + 1:
                        raise self.error("empty parentheses", i)
                    self.check_expression(i + 1, self.match[i])
                    callable_, i = True, self.match[i] + 1
                else:
                    raise self.error(
                        f"expected a variable or expression in the {what}, found {token.text!r}", i
                    )
                while callable_ and i < hi and self.is_op(i, "(", "["):
                    i = self.match[i] + 1
                expect_operand = False
            elif what == "response":
                raise self.error(
                    f"the response must be one variable or expression, found {token.text!r} "
                    "(wrap arithmetic in I())",
                    i,
                )
            elif token.kind == OP and (token.text in _TERM_OPS or _is_r_op(token.text)):
                expect_operand, last_op, i = True, i, i + 1
            elif token.kind != OP or token.is_op("("):
                raise self.error(f"an operator such as '+' is missing before {token.text!r}", i)
            else:
                raise self.error(f"unexpected {token.text!r} in the {what}", i)
        if expect_operand and last_op is not None:
            raise self.error(f"the {what} ends with {toks[last_op].text!r}", last_op)

    def check_expression(self, lo: int, hi: int) -> None:
        """Check a parenthesised additive expression such as the ``a + b`` of ``(a + b):c``."""
        for part in self.split_additive(lo, hi, "the parenthesised expression"):
            self.check_term(part.lo, part.hi)

    def parse_random(self, lo: int, hi: int) -> list[RandomTerm]:
        """Parse the inside ``lhs | group`` of a random-effects term and expand it."""
        bars = [i for i in self.top_level(lo, hi) if self.is_op(i, *_BARS)]
        if len(bars) > 1:
            raise self.error("a random-effects term has more than one '|'", bars[1])
        bar = bars[0]
        if bar == lo:
            raise self.error("the left-hand side of a random-effects term is empty", bar)
        if bar == hi - 1:
            raise self.error("the grouping factor of a random-effects term is empty", bar)
        self.reject_bars(lo, bar)
        intercept, parts, _ = self.linear(lo, bar, "the left-hand side of a random-effects term")
        if self.is_op(bar, "||"):
            lhs_list = self.expand_double_bar(intercept, parts)
        else:
            signed = [(p.sign, render(self.tokens[p.lo : p.hi])) for p in parts]
            lhs_list = [_linear_text(intercept, signed)]
        if lhs_list in ([], ["0"]):
            raise self.error("a random-effects term needs an intercept or a variable before '|'", lo)
        groups = self.parse_group(bar + 1, hi)
        return [
            RandomTerm(lhs=lhs, group=group, text=f"({lhs} | {':'.join(quote_name(g) for g in group)})")
            for lhs in lhs_list
            for group in groups
        ]

    def expand_double_bar(self, intercept: bool, parts: list[_Part]) -> list[str]:
        """Left-hand sides of the independent terms of ``(lhs || g)``: ``"1"``, ``"0 + x"``, ..."""
        pieces: list[str] = []
        for part in parts:
            if part.sign < 0:
                raise self.error("terms cannot be subtracted on the left of '||'", part.op)
            for piece in self.expand_product(part.lo, part.hi):
                if piece not in pieces:
                    pieces.append(piece)
        return (["1"] if intercept else []) + [f"0 + {piece}" for piece in pieces]

    def expand_product(self, lo: int, hi: int) -> list[str]:
        """Expand ``a*b`` into ``a``, ``b``, ``a:b`` (as R's ``terms`` would) for ``||``."""
        stars = [i for i in self.top_level(lo, hi) if self.is_op(i, "*")]
        factors, start = [], lo
        for end in [*stars, hi]:
            for i in self.top_level(start, end):
                text = self.tokens[i].text
                if self.tokens[i].kind == OP and (text in _NOT_IN_DOUBLE_BAR or _is_r_op(text)):
                    raise self.error(f"{text!r} is not supported on the left of '||': write the terms out", i)
            if self.is_op(start, "(") and self.match[start] == end - 1:
                raise self.error("parenthesised terms are not supported on the left of '||'", start)
            factors.append(render(self.tokens[start:end]))
            start = end + 1
        return [
            ":".join(combo)
            for k in range(1, len(factors) + 1)
            for combo in itertools.combinations(factors, k)
        ]

    def parse_group(self, lo: int, hi: int) -> list[tuple[str, ...]]:
        """Grouping factors of ``a:b`` (one interaction) or ``a/b`` (``a`` and ``a:b``)."""
        chunks: list[list[str]] = [[]]
        expect_name, last_op = True, lo
        for i in range(lo, hi):
            token = self.tokens[i]
            if token.is_op("(", "["):
                raise self.error(
                    "brackets and function calls are not supported in a grouping factor: "
                    "use column names joined by ':' or '/'",
                    i,
                )
            if expect_name:
                if token.kind not in (NAME, BACKTICK):
                    raise self.error(f"a grouping factor must be a column name, found {token.text!r}", i)
                chunks[-1].append(token.text[1:-1] if token.kind == BACKTICK else token.text)
            elif token.is_op("/"):
                chunks.append([])
            elif not token.is_op(":"):
                raise self.error(
                    f"unsupported {token.text!r} in a grouping factor: use ':' (interaction) or '/' (nesting)",
                    i,
                )
            expect_name, last_op = not expect_name, i
        if expect_name:
            raise self.error(f"the grouping factor ends with {self.tokens[last_op].text!r}", last_op)
        return [tuple(itertools.chain.from_iterable(chunks[: k + 1])) for k in range(len(chunks))]
