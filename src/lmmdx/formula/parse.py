"""Parse lme4 model formulas into :class:`~lmmdx.formula.terms.ModelFormula`.

Pure string processing: this module imports neither numpy, pandas nor formulaic.
The right-hand side is split at its top-level ``+`` and ``-``; a part that is a
parenthesised group with a top-level ``|`` or ``||`` is a random-effects term, every
other part is fixed. Fixed parts and the left-hand sides of random terms are expanded
into terms as R's ``terms()`` does (``*``, ``/``, ``%in%``, ``:``, ``^``, ``-``, terms
sorted by order); ``||`` and ``/`` in random terms are expanded as lme4 does.

Variables are parsed into expression trees (:mod:`lmmdx.formula.expr`). A call of a
function outside the allow-list (:mod:`lmmdx.formula.functions`) is refused here,
before any data are read; no text of the formula is ever evaluated as code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import NamedTuple

from lmmdx.errors import FormulaError
from lmmdx.formula.expr import Binary, Call, Expr, Name, Number, Paren, String, Unary
from lmmdx.formula.functions import (
    BOOLEAN,
    BOOLEANS,
    CONTRAST,
    CONTRASTS,
    INTEGER,
    LEVEL,
    MAX_POLY_DEGREE,
    NUMBER,
    VALUE,
    Param,
    bind,
    signature,
)
from lmmdx.formula.lexer import BACKTICK, NAME, OP, STRING, Token, match_brackets, tokenize, unquote
from lmmdx.formula.lexer import NUMBER as NUMBER_TOKEN
from lmmdx.formula.terms import ModelFormula, RandomTerm, Term, Terms

__all__ = ["MAX_EXPRESSION_DEPTH", "MAX_TERMS", "parse_formula"]

#: Deepest expression tree accepted (operators in a chain plus brackets); deeper is refused.
MAX_EXPRESSION_DEPTH = 100
#: Most terms a right-hand side may expand to (``(a + b + ...)^k`` grows fast).
MAX_TERMS = 2000

_BARS = ("|", "||")
_TERM_OPS = frozenset({"*", "/", ":", "^", "**"})
_NESTED = "random-effects terms such as (1 | g) must be added at the top level of the right-hand side"
_COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!="})
_ARITHMETIC_SPECIAL = frozenset({"%%", "%/%"})

_Set = frozenset[Expr]


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
        The response, the fixed part's terms (intercept explicit) and the random terms
        with ``||`` and ``/`` expanded. A formula without random terms is returned
        with ``random == ()``.

    Raises
    ------
    FormulaError
        If the formula cannot be parsed, calls a function outside the allow-list or uses
        unsupported syntax; the message names the 0-based position of the offending
        character (printed 1-based).

    Examples
    --------
    >>> f = parse_formula("y ~ x + (x || g)")
    >>> f.fixed.text, [t.text for t in f.random]
    ('1 + x', ['(1 | g)', '(0 + x | g)'])
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, not {type(text).__name__}")
    return _parse_cached(text)


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> ModelFormula:
    """:func:`parse_formula` without the type check (parsing is pure, so it is cached)."""
    return _Parser(text).parse()


def _is_r_op(text: str) -> bool:
    """Whether an operator token is an R ``%op%`` such as ``%in%``."""
    return len(text) > 1 and text.startswith("%")


def _number(token: Token, text: str) -> Number:
    """The value of a number token: decimal, with R's ``L`` suffix, or hexadecimal."""
    raw = token.text
    integer = raw.endswith("L")
    body = raw[:-1] if integer else raw
    try:
        value = float(int(body, 16)) if body.lower().startswith("0x") else float(body)
    except ValueError:
        raise FormulaError(f"{raw!r} is not a number", text, token.pos) from None
    return Number(value, integer)


class _Scope:
    """The variables of one right-hand side in order of first appearance (R's variable order)."""

    def __init__(self) -> None:
        self.order: dict[Expr, int] = {}

    def add(self, variable: Expr) -> None:
        self.order.setdefault(variable, len(self.order))

    def term(self, variables: _Set) -> Term:
        return Term(tuple(sorted(variables, key=self.order.__getitem__)))


class _Parser:
    """Recursive-descent parser over the tokens of one formula."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.match = match_brackets(self.tokens, text)
        self.scope = _Scope()
        #: Depth of each expression node built so far (by id; the nodes live as long as the parser).
        self.depths: dict[int, int] = {}

    # -- helpers --------------------------------------------------------------------------
    def error(self, message: str, index: int) -> FormulaError:
        """A :class:`FormulaError` pointing at token ``index``."""
        index = min(index, len(self.tokens) - 1)
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

    # -- the formula ------------------------------------------------------------------------
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
        response, _ = self.operand(0, tilde)
        fixed, random = self.linear(tilde + 1, len(toks), "the right-hand side", fixed=True)
        return ModelFormula(response=response, fixed=fixed, random=tuple(random), source=self.text)

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

    def linear(self, lo: int, hi: int, what: str, fixed: bool) -> tuple[Terms, list[RandomTerm]]:
        """An additive right-hand side: its intercept, terms and offsets, and its random terms."""
        intercept = True
        terms: dict[_Set, None] = {}
        offsets: dict[Expr, None] = {}
        random: list[RandomTerm] = []
        for part in self.split_additive(lo, hi, what):
            inner = self.random_inner(part.lo, part.hi) if fixed else None
            if inner is not None:
                if part.sign < 0:
                    raise self.error("a random-effects term cannot be subtracted; add it with '+'", part.op)
                random.extend(self.parse_random(*inner))
                continue
            self.reject_bars(part.lo, part.hi)
            token = self.tokens[part.lo]
            if part.hi - part.lo == 1 and token.kind == NUMBER_TOKEN:
                if token.text not in ("0", "1"):
                    raise self.error(f"{token.text!r} is not a valid term: only 0 and 1 may stand alone", part.lo)
                intercept = (token.text == "1") == (part.sign > 0)
                continue
            self.check_term(part.lo, part.hi)
            offset = self.offset_call(part)
            if offset is not None:
                if not fixed:
                    raise self.error("offset() belongs in the fixed part, not in a random-effects term", part.lo)
                offsets.setdefault(offset)
                continue
            found = self.term_sets(part.lo, part.hi)
            if part.sign > 0:
                terms.update(dict.fromkeys(found))
            else:
                for term in found:
                    terms.pop(term, None)
            if len(terms) > MAX_TERMS:
                raise self.error(f"the formula expands to more than {MAX_TERMS} terms", part.lo)
        built = tuple(self.scope.term(t) for t in terms)
        built = tuple(sorted(built, key=lambda t: t.order))
        return Terms(intercept, built, tuple(offsets)), random

    def offset_call(self, part: _Part) -> Expr | None:
        """The argument of a part that is ``offset(...)`` (subtracting an offset is refused)."""
        lo, hi = part.lo, part.hi
        token = self.tokens[lo]
        if not (token.kind == NAME and token.text == "offset" and lo + 1 < hi and self.is_op(lo + 1, "(")
                and self.match[lo + 1] == hi - 1):
            return None
        call, _ = self.call(lo)
        if part.sign < 0:
            raise self.error("an offset cannot be subtracted", part.op)
        assert isinstance(call, Call)
        return call.args[0] if call.args else call.kwargs[0][1]

    # -- random terms ---------------------------------------------------------------------
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
        outer, self.scope = self.scope, _Scope()
        try:
            lhs, _ = self.linear(lo, bar, "the left-hand side of a random-effects term", fixed=False)
        finally:
            self.scope = outer
        if self.is_op(bar, "||"):
            # lme4's expandDoubleVerts: the intercept and each term of terms(~ lhs) on their own
            lhs_list = ([Terms(True)] if lhs.intercept else []) + [Terms(False, (t,)) for t in lhs.terms]
        else:
            lhs_list = [lhs]
        if not lhs_list or lhs_list == [Terms(False)]:
            raise self.error("a random-effects term needs an intercept or a variable before '|'", lo)
        groups = self.parse_group(bar + 1, hi)
        return [RandomTerm(lhs=one, group=group) for one in lhs_list for group in groups]

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
                chunks[-1].append(unquote(token) if token.kind == BACKTICK else token.text)
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
        return [tuple(n for chunk in chunks[: k + 1] for n in chunk) for k in range(len(chunks))]

    # -- syntax of a term ---------------------------------------------------------------------
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
                    if what != "response":
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

    # -- terms (R's formula algebra) ----------------------------------------------------------------
    def term_sets(self, lo: int, hi: int) -> list[_Set]:
        """The terms of one checked part (no top-level ``+``/``-``), each a set of variables."""
        return self.level_product(lo, hi)

    def ops_at(self, lo: int, hi: int, ops: frozenset[str] | tuple[str, ...]) -> list[int]:
        return [i for i in self.top_level(lo, hi) if self.tokens[i].kind == OP and self.tokens[i].text in ops]

    def fold(self, lo: int, hi: int, ops: dict[str, Callable[[list[_Set], list[_Set]], list[_Set]]],
             inner: Callable[[int, int], list[_Set]]) -> list[_Set]:
        """Left-to-right fold of ``inner`` operands joined by the operators ``ops``."""
        at = self.ops_at(lo, hi, tuple(ops))
        if not at:
            return inner(lo, hi)
        bounds = [lo, *at, hi]
        acc = inner(lo, at[0])
        for k, op in enumerate(at):
            right = inner(op + 1, bounds[k + 2])
            if len(acc) * len(right) > MAX_TERMS * MAX_TERMS:
                raise self.error(f"the formula expands to more than {MAX_TERMS} terms", op)
            acc = _unique(ops[self.tokens[op].text](acc, right))
            if len(acc) > MAX_TERMS:
                raise self.error(f"the formula expands to more than {MAX_TERMS} terms", op)
        return acc

    def level_product(self, lo: int, hi: int) -> list[_Set]:
        for i in self.top_level(lo, hi):
            token = self.tokens[i]
            if token.kind == OP and _is_r_op(token.text) and token.text != "%in%":
                raise self.error(f"the operator {token.text!r} is not supported in a formula term "
                                 "(use it inside I())", i)
        return self.fold(lo, hi, {"*": _cross, "/": _nest}, self.level_in)

    def level_in(self, lo: int, hi: int) -> list[_Set]:
        return self.fold(lo, hi, {"%in%": _within}, self.level_colon)

    def level_colon(self, lo: int, hi: int) -> list[_Set]:
        return self.fold(lo, hi, {":": _interact}, self.level_power)

    def level_power(self, lo: int, hi: int) -> list[_Set]:
        at = self.ops_at(lo, hi, ("^", "**"))
        if not at:
            return self.term_atom(lo, hi)
        if len(at) > 1:
            raise self.error("write a power of terms with one '^', as (a + b + c)^2", at[1])
        op = at[0]
        base = self.term_atom(lo, op)
        token = self.tokens[op + 1]
        degree = None
        if op + 2 == hi and token.kind == NUMBER_TOKEN:
            value = _number(token, self.text).value
            degree = int(value) if value == int(value) and 1 <= value <= 64 else None
        if degree is None:
            raise self.error("the power of terms must be a whole number from 1 to 64 "
                             "(write I(x^2) for the square of a variable)", op + 1)
        return _power(base, degree, lambda: self.error(f"the formula expands to more than {MAX_TERMS} terms", op))

    def term_atom(self, lo: int, hi: int) -> list[_Set]:
        """One operand of the term algebra: a variable, or a bracketed sum of terms."""
        token = self.tokens[lo]
        if token.is_op("(") and self.match[lo] == hi - 1:
            return self.bracketed(lo + 1, hi - 1)
        if token.kind == NUMBER_TOKEN:
            raise self.error(f"{token.text!r} is not a valid term: only 0 and 1 may stand alone", lo)
        if token.kind == STRING:
            raise self.error(f"{token.text} is a string, not a variable: write a column name "
                             "(in backticks if it has spaces)", lo)
        if token.kind == NAME and token.text == "." and hi == lo + 1:
            raise self.error("'.' (every other column) is not supported: name the predictors", lo)
        if token.kind == NAME and token.text == "offset" and lo + 1 < hi and self.is_op(lo + 1, "("):
            raise self.error("offset() must be added as a term of its own (+ offset(x))", lo)
        variable, end = self.operand(lo, hi)
        if end != hi:
            raise self.error(f"an operator such as '+' is missing before {self.tokens[end].text!r}", end)
        self.scope.add(variable)
        return [frozenset({variable})]

    def bracketed(self, lo: int, hi: int) -> list[_Set]:
        """A bracketed sum of terms such as the ``a + b`` of ``(a + b):c``."""
        terms: dict[_Set, None] = {}
        for part in self.split_additive(lo, hi, "the parenthesised expression"):
            token = self.tokens[part.lo]
            if part.hi - part.lo == 1 and token.kind == NUMBER_TOKEN:
                raise self.error(f"{token.text!r} inside brackets: write the intercept (0 or 1) at the top level",
                                 part.lo)
            found = self.term_sets(part.lo, part.hi)
            if part.sign > 0:
                terms.update(dict.fromkeys(found))
            else:
                for term in found:
                    terms.pop(term, None)
        return list(terms)

    # -- expressions (variables and the arithmetic inside calls) -----------------------------------
    def operand(self, lo: int, hi: int) -> tuple[Expr, int]:
        """One variable at ``lo``: a name, a call, or a bracketed expression; and where it ends."""
        token = self.tokens[lo]
        if token.is_op("("):
            inner, _ = self.arithmetic(lo + 1, self.match[lo])
            end = self.match[lo] + 1
            node: Expr = Paren(inner)
            _depth_check(self, node, lo)
        elif token.kind in (NAME, BACKTICK):
            if lo + 1 < len(self.tokens) and self.is_op(lo + 1, "("):
                node, end = self.call(lo)
            else:
                node, end = Name(unquote(token) if token.kind == BACKTICK else token.text), lo + 1
        elif token.kind == NUMBER_TOKEN:
            node, end = _number(token, self.text), lo + 1
        elif token.kind == STRING:
            node, end = String(_string_value(token.text)), lo + 1
        else:
            raise self.error(f"expected a variable or expression, found {token.text!r}", lo)
        if end < hi and self.is_op(end, "["):
            raise self.error("subscripts with [ ] are not supported in a formula", end)
        return node, end

    def call(self, lo: int) -> tuple[Expr, int]:
        """A call ``f(args)`` of an allowed function, its arguments checked against its signature."""
        token = self.tokens[lo]
        name = unquote(token) if token.kind == BACKTICK else token.text
        sig = signature(name, self.text, token.pos)
        open_, close = lo + 1, self.match[lo + 1]
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        if close > open_ + 1:
            commas = self.ops_at(open_ + 1, close, (",",))
            bounds = [open_, *commas, close]
            for k in range(len(bounds) - 1):
                a, b = bounds[k] + 1, bounds[k + 1]
                if a >= b:
                    raise self.error(f"an argument of {name}() is empty", min(a, close))
                if b - a >= 2 and self.tokens[a].kind in (NAME, BACKTICK) and self.is_op(a + 1, "="):
                    key = unquote(self.tokens[a]) if self.tokens[a].kind == BACKTICK else self.tokens[a].text
                    if a + 2 >= b:
                        raise self.error(f"the argument {key!r} of {name}() has no value", a + 1)
                    value, _ = self.arithmetic(a + 2, b)
                    kwargs.append((key, value))
                else:
                    if kwargs:
                        raise self.error(f"a positional argument of {name}() follows a named one", a)
                    value, _ = self.arithmetic(a, b)
                    args.append(value)
        node = Call(name, tuple(args), tuple(kwargs))
        self.check_call(node, sig.params, lo)
        _depth_check(self, node, lo)
        return node, close + 1

    def check_call(self, node: Call, params: tuple[Param, ...], at: int) -> None:
        """Arguments bound to the signature's parameters, constants of the right kind."""
        try:
            bound = bind(node)
        except FormulaError as exc:
            raise self.error(str(exc), at) from None
        for p in params:
            value = bound.get(p.name)
            if value is None or p.kind == VALUE:
                continue
            if not _constant_ok(p.kind, value):
                raise self.error(f"the argument {p.name!r} of {node.function}() must be {_KIND_TEXT[p.kind]}, "
                                 f"not {value.text}", at)

    def arithmetic(self, lo: int, hi: int) -> tuple[Expr, int]:
        """An arithmetic expression (inside a call or brackets); returns it and its depth."""
        if lo >= hi:
            raise self.error("an expression is empty", min(lo, len(self.tokens) - 1))
        for i in self.top_level(lo, hi):
            token = self.tokens[i]
            if token.kind != OP or token.text in ("(", "[", "+", "-", "*", "/", "^", "**") or \
                    token.text in _COMPARISONS or token.text in _ARITHMETIC_SPECIAL:
                continue
            if token.text == ":":
                raise self.error("':' inside a function call (R's sequence) is not supported", i)
            if token.text in ("|", "||", "&", "&&", "!"):
                raise self.error(f"the logical operator {token.text!r} is not supported in a formula", i)
            raise self.error(f"unexpected {token.text!r} in an expression", i)
        cmp = self.ops_at(lo, hi, _COMPARISONS)
        if len(cmp) > 1:
            raise self.error("comparisons cannot be chained: write one comparison per I()", cmp[1])
        if cmp:
            op = cmp[0]
            left = self.additive(lo, op)
            right = self.additive(op + 1, hi)
            node: Expr = Binary(self.tokens[op].text, left, right)
            _depth_check(self, node, op)
            return node, self.depths.get(id(node), 1)
        node = self.additive(lo, hi)
        return node, self.depths.get(id(node), 1)

    def binary_ops(self, lo: int, hi: int, ops: tuple[str, ...]) -> list[int]:
        """Top-level binary (not prefix) occurrences of ``ops`` in ``[lo, hi)``."""
        out = []
        for i in self.top_level(lo, hi):
            token = self.tokens[i]
            if token.kind == OP and token.text in ops and i > lo and self.ends_operand(i - 1):
                out.append(i)
        return out

    def ends_operand(self, i: int) -> bool:
        token = self.tokens[i]
        return token.kind != OP or token.text in (")", "]")

    def chain(self, lo: int, hi: int, ops: tuple[str, ...], inner: Callable[[int, int], Expr]) -> Expr:
        at = self.binary_ops(lo, hi, ops)
        bounds = [lo, *at, hi]
        if any(bounds[k] + (1 if k else 0) >= bounds[k + 1] for k in range(len(bounds) - 1)):
            bad = next(bounds[k] for k in range(len(bounds) - 1) if bounds[k] + (1 if k else 0) >= bounds[k + 1])
            raise self.error("an operand is missing", bad)
        acc = inner(lo, at[0] if at else hi)
        for k, op in enumerate(at):
            right = inner(op + 1, bounds[k + 2])
            acc = Binary(self.tokens[op].text, acc, right)
            _depth_check(self, acc, op)
        return acc

    def additive(self, lo: int, hi: int) -> Expr:
        if lo >= hi:
            raise self.error("an operand is missing", min(lo, len(self.tokens) - 1))
        return self.chain(lo, hi, ("+", "-"), self.multiplicative)

    def multiplicative(self, lo: int, hi: int) -> Expr:
        return self.chain(lo, hi, ("*", "/"), self.special)

    def special(self, lo: int, hi: int) -> Expr:
        return self.chain(lo, hi, tuple(_ARITHMETIC_SPECIAL), self.unary)

    def unary(self, lo: int, hi: int) -> Expr:
        """Prefix signs, then a power chain (``-x^2`` is ``-(x^2)``, as in R)."""
        signs = []
        while lo < hi and self.is_op(lo, "+", "-"):
            signs.append(self.tokens[lo].text)
            lo += 1
        if lo >= hi:
            raise self.error("an operand is missing after a sign", lo - 1)
        node = self.power(lo, hi)
        for sign in reversed(signs):
            node = Unary(sign, node)
            _depth_check(self, node, lo)
        return node

    def power(self, lo: int, hi: int) -> Expr:
        """``a ^ b ^ c`` is ``a ^ (b ^ c)``; an exponent may carry signs (``x^-1``)."""
        at = [i for i in self.top_level(lo, hi) if self.is_op(i, "^", "**")]
        bounds = [lo, *at, hi]
        pieces: list[tuple[list[str], Expr]] = []
        for k in range(len(bounds) - 1):
            a, b = bounds[k] + (1 if k else 0), bounds[k + 1]
            signs = []
            while k and a < b and self.is_op(a, "+", "-"):
                signs.append(self.tokens[a].text)
                a += 1
            if a >= b:
                raise self.error("an operand is missing", min(a, len(self.tokens) - 1))
            node, end = self.operand(a, b)
            if end != b:
                raise self.error(f"an operator is missing before {self.tokens[end].text!r}", end)
            pieces.append((signs, node))
        acc = pieces[-1][1]
        for sign in reversed(pieces[-1][0]):
            acc = Unary(sign, acc)
        for signs, node in reversed(pieces[:-1]):
            acc = Binary("^", node, acc)
            for sign in reversed(signs):
                acc = Unary(sign, acc)
            _depth_check(self, acc, lo)
        return acc


_KIND_TEXT = {
    INTEGER: f"a whole number from 1 to {MAX_POLY_DEGREE}",
    NUMBER: "a number",
    BOOLEAN: "TRUE or FALSE",
    CONTRAST: "one of " + ", ".join(CONTRASTS),
    LEVEL: "a level in quotes (or a number)",
}


def _constant_ok(kind: str, value: Expr) -> bool:
    if isinstance(value, Unary) and value.op == "-" and isinstance(value.operand, Number):
        number: float | None = -value.operand.value
    else:
        number = value.value if isinstance(value, Number) else None
    if kind == INTEGER:
        return number is not None and number == int(number) and 1 <= number <= MAX_POLY_DEGREE
    if kind == NUMBER:
        return number is not None
    if kind == BOOLEAN:
        return isinstance(value, Name) and value.name in BOOLEANS
    if kind == CONTRAST:
        return (isinstance(value, Name) and value.name in CONTRASTS) or (
            isinstance(value, String) and value.value in CONTRASTS)
    if kind == LEVEL:
        return isinstance(value, String) or number is not None
    return False


def _string_value(raw: str) -> str:
    """The value of a quoted string token (backslash escapes of quotes and backslashes resolved)."""
    inner = raw[1:-1]
    out, i = [], 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner):
            nxt = inner[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _depth_check(parser: _Parser, node: Expr, index: int) -> None:
    """Refuse trees deeper than :data:`MAX_EXPRESSION_DEPTH` as they are built (bottom-up)."""
    depth = 1 + max((parser.depths.get(id(c), 1) for c in node.children()), default=0)
    if depth > MAX_EXPRESSION_DEPTH:
        raise parser.error(f"the expression is nested more than {MAX_EXPRESSION_DEPTH} deep", index)
    parser.depths[id(node)] = depth


# -- R's term algebra (terms.formula in R's model.c) ------------------------------------------------
def _unique(terms: list[_Set]) -> list[_Set]:
    return list(dict.fromkeys(terms))


def _interact(left: list[_Set], right: list[_Set]) -> list[_Set]:
    """``a:b`` — every term of the left with every term of the right."""
    return [lt | rt for lt in left for rt in right]


def _cross(left: list[_Set], right: list[_Set]) -> list[_Set]:
    """``a*b`` = ``a + b + a:b``."""
    return left + right + _interact(left, right)


def _within(left: list[_Set], right: list[_Set]) -> list[_Set]:
    """``a %in% b`` — each left term with all the variables of the right (R's InTerms)."""
    every: frozenset[Expr] = frozenset().union(*right)
    return [lt | every for lt in left]


def _nest(left: list[_Set], right: list[_Set]) -> list[_Set]:
    """``a/b`` = ``a + b %in% a`` (R's NestTerms)."""
    every: frozenset[Expr] = frozenset().union(*left)
    return left + [rt | every for rt in right]


def _power(base: list[_Set], degree: int, too_many: Callable[[], FormulaError]) -> list[_Set]:
    """``(a + b)^k``: every product of up to ``k`` terms (R's PowerTerms)."""
    acc = list(base)
    for _ in range(degree - 1):
        if len(acc) * len(base) > MAX_TERMS * MAX_TERMS:
            raise too_many()
        nxt = _unique([lt | rt for lt in base for rt in acc])
        if len(nxt) > MAX_TERMS:
            raise too_many()
        if nxt == acc:
            break
        acc = nxt
    return acc
