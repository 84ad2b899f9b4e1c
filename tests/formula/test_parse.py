"""Tests of :func:`lmmdx.formula.parse_formula` against lme4's formula semantics."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmmdx.errors import FormulaError, LmmdxError
from lmmdx.formula import Call, ModelFormula, Name, RandomTerm, Term, Terms, parse_formula

Triple = tuple[str, tuple[str, ...], str]


def randoms(formula: ModelFormula) -> list[Triple]:
    """The random terms of a parsed formula as (lhs, group, text) triples."""
    return [(t.lhs.text, t.group, t.text) for t in formula.random]


def test_sleepstudy_formula() -> None:
    f = parse_formula("Reaction ~ Days + (Days | Subject)")
    days = Term((Name("Days"),))
    assert f == ModelFormula(
        response=Name("Reaction"),
        fixed=Terms(True, (days,)),
        random=(RandomTerm(lhs=Terms(True, (days,)), group=("Subject",)),),
    )
    assert f.text == "Reaction ~ Days + (Days | Subject)"
    assert f.random[0].group_name == "Subject" and f.random[0].text == "(1 + Days | Subject)"
    assert f.written == "Reaction ~ Days + (1 + Days | Subject)"


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("y ~ x", "1 + x"),
        ("y ~ 1", "1"),
        ("y ~ 0", "0"),
        ("y ~ -1", "0"),
        ("y ~ 1 + x", "1 + x"),
        ("y ~ 0 + x", "0 + x"),
        ("y ~ x + 0", "0 + x"),
        ("y ~ x - 1", "0 + x"),
        ("y ~ -1 + x", "0 + x"),
        ("y ~ x + -1", "0 + x"),
        ("y ~ x - 1 + z", "0 + x + z"),
        ("y ~ x - 0", "1 + x"),
        ("y ~ 0 + x + 1", "1 + x"),
        ("y ~ x + z + w", "1 + x + z + w"),
        ("y ~ I((x+1)^2)", "1 + I((x + 1)^2)"),
        ("y ~ I(x**2)", "1 + I(x^2)"),
        ("y ~ I(x ^ 2) + I(x ** 3)", "1 + I(x^2) + I(x^3)"),
        ("y ~ log(x + 1)", "1 + log(x + 1)"),
        ("y ~ log(x+1)", "1 + log(x + 1)"),
        ("y ~ I(x/2) + I(x*2) + I(x %% 2)", "1 + I(x/2) + I(x * 2) + I(x%%2)"),
        ("y ~ a*b", "1 + a + b + a:b"),
        ("y ~ a:b", "1 + a:b"),
        ("y ~ a/b", "1 + a + a:b"),
        ("y ~ a/(b + c)", "1 + a + a:b + a:c"),
        ("y ~ (a + b + c)^2", "1 + a + b + c + a:b + a:c + b:c"),
        ("y ~ (a + b)**2", "1 + a + b + a:b"),
        ("y ~ a*b*c", "1 + a + b + c + a:b + a:c + b:c + a:b:c"),
        ("y ~ x^2", "1 + x"),
        ("y ~ poly(x, 2)", "1 + poly(x, 2)"),
        ("y ~ poly(x, degree = 2, raw = TRUE)", "1 + poly(x, degree = 2, raw = TRUE)"),
        ("y ~ C(f)", "1 + C(f)"),
        ("y ~ C(f, contr.sum)", "1 + C(f, contr.sum)"),
        ("y ~ factor(Days) + ordered(d) + as.numeric(f)", "1 + factor(Days) + ordered(d) + as.numeric(f)"),
        ("y ~ scale(t, center = FALSE)", "1 + scale(t, center = FALSE)"),
        ("y ~ (a + b):c", "1 + a:c + b:c"),
        ("y ~ a %in% b", "1 + a:b"),
        ("y ~ x %in% g", "1 + x:g"),
        ("y ~ (a + b) %in% (c + d)", "1 + a:c:d + b:c:d"),
        ("y ~ a*b - a:b", "1 + a + b"),
        ("y ~ -x + z", "1 + z"),
        ("y ~ a - b + c", "1 + a + c"),
        ("y ~ 0 + a - b", "0 + a"),
        ("y ~ a + b - a + a", "1 + b + a"),
        ("y ~ x + x", "1 + x"),
        ("y ~ x:x", "1 + x"),
        ("y ~ a:b + b:a", "1 + a:b"),
        ("y ~ b:a + a", "1 + a + b:a"),
        ("y ~ a + b:a", "1 + a + a:b"),
        ("y ~ `my x` + z", "1 + `my x` + z"),
        ("y ~ np.log(x) + x.1", "1 + np.log(x) + x.1"),
        ("y ~ I(x > -1) + I(-x)", "1 + I(x > -1) + I(-x)"),
        ("y ~ I(-x^2) + I(2^-1) + I((-x)^2)", "1 + I(-x^2) + I(2^-1) + I((-x)^2)"),
        ("y ~ x + offset(log(n))", "1 + x + offset(log(n))"),
        ("y ~ I(1e5 * x) + I(0.50 + x)", "1 + I(1e+05 * x) + I(0.5 + x)"),
    ],
)
def test_fixed_part(text: str, fixed: str) -> None:
    f = parse_formula(text)
    assert f.fixed.text == fixed
    assert f.random == ()
    assert f.response == Name("y")


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("y ~ (1|g)", "1"),
        ("y ~ 1 + (1|g)", "1"),
        ("y ~ 0 + (1|g)", "0"),
        ("y ~ x - 1 + (1|g)", "0 + x"),
        ("y ~ (1|g) - 1", "0"),
        ("y ~ (1|g) + x + 0", "0 + x"),
        ("y ~ x + (1|g) + z", "1 + x + z"),
        ("y ~ (1 | g) + (x | h) + x", "1 + x"),
    ],
)
def test_random_terms_do_not_disturb_the_fixed_part(text: str, fixed: str) -> None:
    assert parse_formula(text).fixed.text == fixed


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("y ~ x", "y"),
        ("   y   ~ x", "y"),
        ("log(y) ~ x", "log(y)"),
        ("log( y ) ~ x", "log(y)"),
        ("I(y / 10) ~ x", "I(y/10)"),
        ("`my y` ~ x", "`my y`"),
        ("Reaction.ms ~ x", "Reaction.ms"),
        ("(y) ~ x", "(y)"),
        ("sqrt(y + 1) ~ x", "sqrt(y + 1)"),
    ],
)
def test_response(text: str, response: str) -> None:
    assert parse_formula(text).response.text == response


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y ~ (1 | g)", [("1", ("g",), "(1 | g)")]),
        ("y ~ (x | g)", [("1 + x", ("g",), "(1 + x | g)")]),
        ("y ~ (1 + x | g)", [("1 + x", ("g",), "(1 + x | g)")]),
        ("y ~ (0 + x | g)", [("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (x + 0 | g)", [("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (x - 1 | g)", [("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (-1 + x | g)", [("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (1 + x + z | g)", [("1 + x + z", ("g",), "(1 + x + z | g)")]),
        ("y ~ (1 + x - z | g)", [("1 + x", ("g",), "(1 + x | g)")]),
        ("y ~ (x*z | g)", [("1 + x + z + x:z", ("g",), "(1 + x + z + x:z | g)")]),
        ("y ~ (I(x^2) | g)", [("1 + I(x^2)", ("g",), "(1 + I(x^2) | g)")]),
        ("y ~ (log(x+1) | g)", [("1 + log(x + 1)", ("g",), "(1 + log(x + 1) | g)")]),
        ("y ~ (a:b | g)", [("1 + a:b", ("g",), "(1 + a:b | g)")]),
        ("y ~ (`my x` | g)", [("1 + `my x`", ("g",), "(1 + `my x` | g)")]),
        ("y ~ (1 | a:b)", [("1", ("a", "b"), "(1 | a:b)")]),
        ("y ~ (0 + x | a:b)", [("0 + x", ("a", "b"), "(0 + x | a:b)")]),
        ("y ~ (1 | a:b:c)", [("1", ("a", "b", "c"), "(1 | a:b:c)")]),
        (
            "y ~ (1 | batch/cask)",
            [("1", ("batch",), "(1 | batch)"), ("1", ("batch", "cask"), "(1 | batch:cask)")],
        ),
        (
            "y ~ (1 | a/b/c)",
            [("1", ("a",), "(1 | a)"), ("1", ("a", "b"), "(1 | a:b)"), ("1", ("a", "b", "c"), "(1 | a:b:c)")],
        ),
        (
            "y ~ (x | a:b/c)",
            [("1 + x", ("a", "b"), "(1 + x | a:b)"), ("1 + x", ("a", "b", "c"), "(1 + x | a:b:c)")],
        ),
        ("y ~ (1 | a/b:c)", [("1", ("a",), "(1 | a)"), ("1", ("a", "b", "c"), "(1 | a:b:c)")]),
        ("y ~ (1 | `my g`)", [("1", ("my g",), "(1 | `my g`)")]),
        ("y ~ (1 | `g`)", [("1", ("g",), "(1 | g)")]),
        ("y ~ (1 | `my g`:h)", [("1", ("my g", "h"), "(1 | `my g`:h)")]),
        ("y ~ (1 | plate.id)", [("1", ("plate.id",), "(1 | plate.id)")]),
        ("y ~ ((1 | g))", [("1", ("g",), "(1 | g)")]),
        ("y ~ (((x | g)))", [("1 + x", ("g",), "(1 + x | g)")]),
        ("y ~ (1 | g) + (0 + x | h)", [("1", ("g",), "(1 | g)"), ("0 + x", ("h",), "(0 + x | h)")]),
        ("y ~ (1 | h) + x + (1 | g)", [("1", ("h",), "(1 | h)"), ("1", ("g",), "(1 | g)")]),
        ("y ~ (1 | g) + (1 | g)", [("1", ("g",), "(1 | g)"), ("1", ("g",), "(1 | g)")]),
    ],
)
def test_single_bar_random_terms(text: str, expected: list[Triple]) -> None:
    assert randoms(parse_formula(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "y ~ (1 + x + z || g)",
            [("1", ("g",), "(1 | g)"), ("0 + x", ("g",), "(0 + x | g)"), ("0 + z", ("g",), "(0 + z | g)")],
        ),
        ("y ~ (0 + x + z || g)", [("0 + x", ("g",), "(0 + x | g)"), ("0 + z", ("g",), "(0 + z | g)")]),
        ("y ~ (x + z - 1 || g)", [("0 + x", ("g",), "(0 + x | g)"), ("0 + z", ("g",), "(0 + z | g)")]),
        ("y ~ (x || g)", [("1", ("g",), "(1 | g)"), ("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (1 || g)", [("1", ("g",), "(1 | g)")]),
        ("y ~ (0 + x || g)", [("0 + x", ("g",), "(0 + x | g)")]),
        (
            "y ~ (Days || Subject)",
            [("1", ("Subject",), "(1 | Subject)"), ("0 + Days", ("Subject",), "(0 + Days | Subject)")],
        ),
        (
            "y ~ (log(x + 1) || g)",
            [("1", ("g",), "(1 | g)"), ("0 + log(x + 1)", ("g",), "(0 + log(x + 1) | g)")],
        ),
        ("y ~ (x:z || g)", [("1", ("g",), "(1 | g)"), ("0 + x:z", ("g",), "(0 + x:z | g)")]),
        (
            "y ~ (x*z || g)",
            [
                ("1", ("g",), "(1 | g)"),
                ("0 + x", ("g",), "(0 + x | g)"),
                ("0 + z", ("g",), "(0 + z | g)"),
                ("0 + x:z", ("g",), "(0 + x:z | g)"),
            ],
        ),
        (
            "y ~ (0 + x + x:z + x*z || g)",
            [
                ("0 + x", ("g",), "(0 + x | g)"),
                ("0 + z", ("g",), "(0 + z | g)"),
                ("0 + x:z", ("g",), "(0 + x:z | g)"),
            ],
        ),
        # lme4's expandDoubleVerts takes the terms of terms(~ lhs): R's operators and '-' work
        ("y ~ (x - z || g)", [("1", ("g",), "(1 | g)"), ("0 + x", ("g",), "(0 + x | g)")]),
        ("y ~ (0 + a/b || g)", [("0 + a", ("g",), "(0 + a | g)"), ("0 + a:b", ("g",), "(0 + a:b | g)")]),
        ("y ~ (0 + a %in% b || g)", [("0 + a:b", ("g",), "(0 + a:b | g)")]),
        ("y ~ (0 + (a + b) || g)", [("0 + a", ("g",), "(0 + a | g)"), ("0 + b", ("g",), "(0 + b | g)")]),
        ("y ~ (x || a:b)", [("1", ("a", "b"), "(1 | a:b)"), ("0 + x", ("a", "b"), "(0 + x | a:b)")]),
        (
            "y ~ (x || a/b)",
            [
                ("1", ("a",), "(1 | a)"),
                ("1", ("a", "b"), "(1 | a:b)"),
                ("0 + x", ("a",), "(0 + x | a)"),
                ("0 + x", ("a", "b"), "(0 + x | a:b)"),
            ],
        ),
        (
            "y ~ (1 | g) + (x || h)",
            [("1", ("g",), "(1 | g)"), ("1", ("h",), "(1 | h)"), ("0 + x", ("h",), "(0 + x | h)")],
        ),
    ],
)
def test_double_bar_random_terms(text: str, expected: list[Triple]) -> None:
    assert randoms(parse_formula(text)) == expected


def test_three_factor_product_expands_like_r_terms() -> None:
    lhs = [t.lhs.text for t in parse_formula("y ~ (0 + a*b*c || g)").random]
    assert lhs == ["0 + a", "0 + b", "0 + c", "0 + a:b", "0 + a:c", "0 + b:c", "0 + a:b:c"]


def test_no_random_term_is_not_an_error() -> None:
    f = parse_formula("y ~ x + z")
    assert f.random == () and f.fixed.text == "1 + x + z"


def test_text_is_kept_as_written() -> None:
    text = "  y~x+ ( 1|g )  "
    assert parse_formula(text).text == text


@pytest.mark.parametrize(
    "variant",
    [
        "y~x+(1+z|g)+(1|a/b)",
        "y ~ x + (1 + z | g) + (1 | a/b)",
        "  y\t~\nx  +  (  1  +  z  |  g  )  +  (  1 | a / b )  ",
        "y ~x+( 1+ z|g )+(1 |a/ b)",
    ],
)
def test_whitespace_insensitive(variant: str) -> None:
    f = parse_formula(variant)
    assert (f.response.text, f.fixed.text) == ("y", "1 + x")
    assert randoms(f) == [
        ("1 + z", ("g",), "(1 + z | g)"),
        ("1", ("a",), "(1 | a)"),
        ("1", ("a", "b"), "(1 | a:b)"),
    ]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("y x", 0, "no '~'"),
        ("y + x", 0, "no '~'"),
        ("~ x", 0, "response (left of '~') is empty"),
        ("  ~ x", 2, "response (left of '~') is empty"),
        ("y ~", 2, "right-hand side (right of '~') is empty"),
        ("y ~   ", 2, "right-hand side (right of '~') is empty"),
        ("y ~ x ~ z", 6, "more than one '~'"),
        ("y ~ I(~x)", 6, "more than one '~'"),
        ("(y ~ x)", 3, "'~' must be at the top level"),
        ("y ~ (x", 4, "unclosed '('"),
        ("y ~ log(x + (1|g)", 7, "unclosed '('"),
        ("y ~ x)", 5, "unmatched ')'"),
        ("y ~ x + (1|g))", 13, "unmatched ')'"),
        ("y ~ x[1)", 7, "does not close"),
        ("y ~ `x", 4, "unterminated backtick"),
        ("y ~ x + `a b", 8, "unterminated backtick"),
        ("`y ~ x", 0, "unterminated backtick"),
        ("y ~ 'abc", 4, "unterminated string"),
        ("y ~ x # comment", 6, "unexpected character"),
        ("y ~ x | g", 6, "'|' outside parentheses"),
        ("y ~ x || g", 6, "'||' outside parentheses"),
        ("y | g ~ x", 2, "'|' outside parentheses"),
        ("y ~ 1 + x | g", 10, "'|' outside parentheses"),
        ("y ~ ( | g)", 6, "left-hand side of a random-effects term is empty"),
        ("y ~ (| g)", 5, "left-hand side of a random-effects term is empty"),
        ("y ~ (|| g)", 5, "left-hand side of a random-effects term is empty"),
        ("y ~ (1 | )", 7, "grouping factor of a random-effects term is empty"),
        ("y ~ (1 || )", 7, "grouping factor of a random-effects term is empty"),
        ("y ~ (1|g|h)", 8, "more than one '|'"),
        ("y ~ (1|g||h)", 8, "more than one '|'"),
        ("y ~ x:(1|g)", 8, "must be added at the top level"),
        ("y ~ (1|g):x", 6, "must be added at the top level"),
        ("y ~ log(1|g)", 9, "must be added at the top level"),
        ("y ~ I(x|z)", 7, "must be added at the top level"),
        ("y ~ (x + (1|g))", 11, "must be added at the top level"),
        ("y ~ ((1|h) | g)", 7, "must be added at the top level"),
        ("y ~ x (1|g)", 8, "must be added at the top level"),
        ("y ~ (1|g)(1|h)", 6, "must be added at the top level"),
        ("(y|g) ~ x", 2, "must be added at the top level"),
        ("y ~ x - (1|g)", 6, "cannot be subtracted"),
        ("y ~ -(1|g)", 4, "cannot be subtracted"),
        ("y ~ x +", 6, "ends with '+'"),
        ("y ~ x + (1|g) +", 14, "ends with '+'"),
        ("y ~ x -", 6, "ends with '-'"),
        ("y ~ + x", 4, "starts with '+'"),
        ("y ~ +(1|g)", 4, "starts with '+'"),
        ("y ~ x + + z", 8, "missing before '+'"),
        ("y ~ x - - z", 8, "missing before '-'"),
        ("y ~ x - + z", 8, "missing before '+'"),
        ("y ~ x + (1 + | g)", 11, "ends with '+'"),
        ("y ~ (+ x | g)", 5, "starts with '+'"),
        ("y ~ (1|g*h)", 8, "unsupported '*' in a grouping factor"),
        ("y ~ (1|g+h)", 8, "unsupported '+' in a grouping factor"),
        ("y ~ (1|g h)", 9, "unsupported 'h' in a grouping factor"),
        ("y ~ (1|(g))", 7, "brackets and function calls are not supported"),
        ("y ~ (1|a/(b:c))", 9, "brackets and function calls are not supported"),
        ("y ~ (1|f(g))", 8, "brackets and function calls are not supported"),
        ("y ~ (1|2)", 7, "must be a column name, found '2'"),
        ("y ~ (1|'g')", 7, "must be a column name"),
        ("y ~ (1|g:)", 8, "grouping factor ends with ':'"),
        ("y ~ (1|g/)", 8, "grouping factor ends with '/'"),
        ("y ~ (1|:g)", 7, "must be a column name, found ':'"),
        ("y ~ (0|g)", 5, "needs an intercept or a variable"),
        ("y ~ (-1|g)", 5, "needs an intercept or a variable"),
        ("y ~ (0 || g)", 5, "needs an intercept or a variable"),
        ("y ~ (2|g)", 5, "'2' is not a valid term"),
        ("y ~ 2 + x", 4, "'2' is not a valid term"),
        ("y ~ x + 0.5", 8, "'0.5' is not a valid term"),
        ("y + z ~ x", 2, "response must be one variable or expression"),
        ("y:z ~ x", 1, "response must be one variable or expression"),
        ("-y ~ x", 0, "expected a variable or expression in the response"),
        ("y ~ x y", 6, "operator such as '+' is missing before 'y'"),
        ("y ~ x 1", 6, "operator such as '+' is missing before '1'"),
        ("y ~ x * ", 6, "term ends with '*'"),
        ("y ~ x:", 5, "term ends with ':'"),
        ("y ~ * x", 4, "expected a variable or expression in the term, found '*'"),
        ("y ~ x:-z", 5, "term ends with ':'"),
        ("y ~ ()", 4, "empty parentheses"),
        ("y ~ (a + ):b", 7, "ends with '+'"),
        ("y ~ (a b):c", 7, "missing before 'b'"),
        ("y ~ x > 1", 6, "unexpected '>'"),
        ("y ~ x, z", 5, "unexpected ','"),
        ("y ~ x + offset(o):z", 8, "offset() must be added as a term of its own"),
        ("y ~ x - offset(o)", 6, "an offset cannot be subtracted"),
        ("y ~ (offset(o) | g)", 5, "offset() belongs in the fixed part"),
        ("y ~ x[1]", 5, "subscripts with [ ] are not supported"),
        ("y ~ 'x'", 4, "is a string, not a variable"),
        ("y ~ .", 4, "'.' (every other column) is not supported"),
        ("y ~ x %o% z", 6, "the operator '%o%' is not supported"),
        ("y ~ (a + 1):b", 9, "inside brackets"),
        ("y ~ (a + b)^x", 12, "power of terms must be a whole number"),
        ("y ~ a^2^3", 7, "with one '^'"),
        ("cbind2(a,b) ~ x", 0, "unknown function 'cbind2'"),  # cbind() is allowed (binomial GLMM responses)
        ("y ~ foo(x)", 4, "unknown function 'foo'"),
        ("y ~ I(x:z)", 7, "':' inside a function call"),
        ("y ~ I(x & z)", 8, "logical operator '&'"),
        ("y ~ I(x < z < w)", 12, "comparisons cannot be chained"),
        ("y ~ poly(x, 0)", 4, "argument 'degree' of poly() must be a whole number from 1 to 25"),
        ("y ~ poly(x, 26)", 4, "must be a whole number from 1 to 25"),
        ("y ~ poly(x, z)", 4, "argument 'degree' of poly()"),
        ("y ~ scale(x, center = 2)", 4, "argument 'center' of scale() must be TRUE or FALSE"),
        ("y ~ scale(x, middle = TRUE)", 4, "scale() has no argument 'middle'"),
        ("y ~ scale(x, center = TRUE, center = FALSE)", 4, "given twice"),
        ("y ~ log(x, 2, 3)", 4, "log() takes at most 2 argument(s)"),
        ("y ~ relevel(f)", 4, "relevel() needs its argument 'ref'"),
        ("y ~ C(f, contr.foo)", 4, "argument 'contr' of C() must be one of contr.treatment"),
        ("y ~ log(x = 1, 2)", 15, "a positional argument of log() follows a named one"),
        ("y ~ log(x, )", 11, "an argument of log() is empty"),
    ],
)
def test_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    error = info.value
    assert fragment in str(error)
    assert error.position == position
    assert error.formula == text
    # LmmdxError collapses whitespace runs in its one-line message.
    assert str(error).endswith(" ".join(f"at position {position + 1} of {text!r}".split()))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "y ~ " + "(" * 500 + "x" + ")" * 500
    with pytest.raises(FormulaError, match="nested more than"):
        parse_formula(text)


def test_non_string_is_a_formula_error() -> None:
    with pytest.raises(FormulaError, match="must be a string"):
        parse_formula(42)  # type: ignore[arg-type]


def test_formula_error_is_an_lmmdx_error() -> None:
    with pytest.raises(LmmdxError):
        parse_formula("y ~ (1 | )")


def test_written_formulas_parse_to_the_same_model() -> None:
    for text in ["y ~ x - 1 + (1|g)", "y ~ log(x+1) + a:b + (x || g)", "y ~ a*b - a:b", "y ~ 0 + `my x`",
                 "y ~ (1|g)", "log(y) ~ poly(x, 2) + offset(o) + (scale(t) | g/h)", "y ~ `a\\`b` + (1 | `c d`)"]:
        f = parse_formula(text)
        assert parse_formula(f.written) == f


def test_dunder_and_attribute_calls_are_unknown_functions() -> None:
    for text, name in [("y ~ I(__import__('os').system('touch pwned')) + (1|g)", "__import__"),
                       ("y ~ x + I(np.f2py.os.system('touch pwned')) + (1|g)", "np.f2py.os.system"),
                       ("y ~ scale(__import__('os').system('x'))", "__import__"),
                       ("y ~ (eval('1') | g)", "eval"),
                       ("open('f') ~ x", "open"),
                       ("y ~ x.mean()", "x.mean")]:
        with pytest.raises(FormulaError, match=f"unknown function '{re.escape(name)}'"):
            parse_formula(text)


def test_column_names_that_are_function_names_are_columns() -> None:
    f = parse_formula("y ~ sex + Treatment + Sum + Poly + C + center + scale + log + exp + sqrt + np + len + (1 | g)")
    assert [t.label for t in f.fixed.terms] == ["sex", "Treatment", "Sum", "Poly", "C", "center", "scale", "log",
                                               "exp", "sqrt", "np", "len"]
    assert all(isinstance(v, Name) for v in f.fixed.variables())
    g = parse_formula("y ~ scale(scale) + log(log) + (scale(t) | g)")
    assert g.fixed.terms[0].variables == (Call("scale", (Name("scale"),)),)


def test_expressions_are_bounded() -> None:
    deep = "y ~ I(" + "+".join(["x"] * 200) + ")"
    with pytest.raises(FormulaError, match="nested more than"):
        parse_formula(deep)
    with pytest.raises(FormulaError, match="more than 2000 terms"):
        parse_formula("y ~ (a + b + c + d + e + f + g + h + i + j + k + l)^12")


# --- properties -------------------------------------------------------------------------------

ALPHABET = "xyzgab~+-*/:|()01 ^`"


def identity(f: ModelFormula) -> tuple[object, ...]:
    """What makes two parses the same model (a term's variables as a set, as R's terms() compares)."""
    def terms(t: Terms) -> tuple[object, ...]:
        return (t.intercept, frozenset(frozenset(term.variables) for term in t.terms), t.offsets)
    return (f.response, terms(f.fixed), tuple((terms(r.lhs), r.group) for r in f.random))


def check_parses_or_formula_error(text: str) -> None:
    """Parse ``text``: a ModelFormula, or a FormulaError pointing inside the text; nothing else."""
    try:
        f = parse_formula(text)
    except FormulaError as error:
        assert error.formula == text
        assert error.position is not None and 0 <= error.position <= max(len(text) - 1, 0)
        return
    assert isinstance(f, ModelFormula) and f.text == text
    assert f.fixed.text.startswith(("0", "1")) and f.response
    for term in f.random:
        assert isinstance(term, RandomTerm) and term.group and all(term.group)
        assert term.lhs.text.startswith(("0", "1")) and term.lhs.text != "0"
    # Writing the parts back gives the same model.
    assert identity(parse_formula(f.written)) == identity(f)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=30))
def test_random_strings_parse_or_raise_formula_error(text: str) -> None:
    check_parses_or_formula_error(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET.replace("~", ""), max_size=30))
def test_random_right_hand_sides_parse_or_raise_formula_error(rhs: str) -> None:
    check_parses_or_formula_error("y ~ " + rhs)


SPACE = st.sampled_from(["", " ", "  ", "\t", "\n"])
VARIABLES = ["x", "z", "Days", "x.1", "`my x`", "log(x + 1)", "I(x^2)"]
GROUPS = ["g", "Subject", "plate.id", "`my g`"]


def _cumulative(names: list[str], seps: list[str]) -> list[list[str]]:
    """Groups of ``a:b/c``: ``[a, b]`` and ``[a, b, c]`` (``/`` closes a group, ``:`` extends it)."""
    groups, current = [], [names[0]]
    for sep, name in zip(seps, names[1:], strict=True):
        if sep == "/":
            groups.append(current)
        current = current + [name]
    return groups + [current]


@st.composite
def random_term(draw: st.DrawFn) -> tuple[list[str], list[Triple]]:
    """Pieces of one random term, and the RandomTerms it should expand to."""
    variables = draw(st.lists(st.sampled_from(VARIABLES), max_size=3, unique=True))
    intercept = draw(st.sampled_from(["", "1", "0"] if variables else ["1"]))
    bar = draw(st.sampled_from(["|", "||"]))
    names = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3))
    seps = [draw(st.sampled_from([":", "/"])) for _ in names[1:]]
    lhs_pieces = ([intercept] if intercept else []) + variables
    lhs_tokens = [tok for i, piece in enumerate(lhs_pieces) for tok in ([] if i == 0 else ["+"]) + [piece]]
    group_tokens = [names[0]] + [
        tok for sep, name in zip(seps, names[1:], strict=True) for tok in (sep, name)
    ]
    has_intercept = intercept != "0"
    if bar == "|":
        lhs_list = [" + ".join(["1" if has_intercept else "0", *variables])]
    else:
        lhs_list = (["1"] if has_intercept else []) + [f"0 + {v}" for v in variables]
    expected = [
        (lhs, tuple(n.strip("`") for n in group), f"({lhs} | {':'.join(group)})")
        for lhs in lhs_list
        for group in _cumulative(names, seps)
    ]
    return ["(", *lhs_tokens, bar, *group_tokens, ")"], expected


@st.composite
def structured_formula(draw: st.DrawFn) -> tuple[str, str, list[Triple]]:
    """A valid formula with random spacing, its expected fixed part and random terms."""
    fixed_vars = draw(st.lists(st.sampled_from(VARIABLES), max_size=3, unique=True))
    intercept = draw(st.sampled_from(["", "1", "0", "-1"]))
    # Items are (sign, tokens, expected random terms); fixed variables expect none.
    items: list[tuple[str, list[str], list[Triple]]] = [("+", [v], []) for v in fixed_vars]
    items += [("+", tokens, expected) for tokens, expected in draw(st.lists(random_term(), max_size=3))]
    items = draw(st.permutations(items))
    if intercept:
        sign, value = ("-", "1") if intercept == "-1" else ("+", intercept)
        items.insert(draw(st.integers(0, len(items))), (sign, [value], []))
    if not items:
        items = [("+", ["1"], [])]
    tokens = ["y", "~"]
    for i, (sign, term, _) in enumerate(items):
        if i > 0 or sign == "-":
            tokens.append(sign)
        tokens.extend(term)
    text = "".join(tok + draw(SPACE) for tok in tokens)
    ordered_vars = [term[0] for _, term, _ in items if term[0] in fixed_vars]
    fixed = " + ".join(["0" if intercept in ("0", "-1") else "1", *ordered_vars])
    return text, fixed, [t for _, _, expected in items for t in expected]


@settings(max_examples=300, deadline=None)
@given(structured_formula())
def test_structured_formulas_parse_to_the_expected_terms(case: tuple[str, str, list[Triple]]) -> None:
    text, fixed, expected = case
    f = parse_formula(text)
    assert f.response == Name("y")
    assert f.fixed.text == fixed
    assert randoms(f) == expected
