"""Tests of :func:`lmmdx.formula.parse_formula` against lme4's formula semantics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmmdx.errors import FormulaError, LmmdxError
from lmmdx.formula import ModelFormula, RandomTerm, parse_formula

Term = tuple[str, tuple[str, ...], str]


def randoms(formula: ModelFormula) -> list[Term]:
    """The random terms of a parsed formula as (lhs, group, text) triples."""
    return [(t.lhs, t.group, t.text) for t in formula.random]


def test_sleepstudy_formula() -> None:
    f = parse_formula("Reaction ~ Days + (Days | Subject)")
    assert f == ModelFormula(
        text="Reaction ~ Days + (Days | Subject)",
        response="Reaction",
        fixed="1 + Days",
        random=(RandomTerm(lhs="1 + Days", group=("Subject",), text="(1 + Days | Subject)"),),
    )
    assert f.random[0].group_name == "Subject"


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
        ("y ~ I(x**2)", "1 + I(x**2)"),
        ("y ~ I(x ^ 2) + I(x ** 3)", "1 + I(x^2) + I(x**3)"),
        ("y ~ log(x + 1)", "1 + log(x + 1)"),
        ("y ~ log(x+1)", "1 + log(x + 1)"),
        ("y ~ a*b", "1 + a * b"),
        ("y ~ a:b", "1 + a:b"),
        ("y ~ a/b", "1 + a / b"),
        ("y ~ (a + b + c)^2", "1 + (a + b + c)^2"),
        ("y ~ poly(x, 2)", "1 + poly(x, 2)"),
        ("y ~ poly(x, degree = 2, raw = TRUE)", "1 + poly(x, degree=2, raw=TRUE)"),
        ("y ~ C(f)", "1 + C(f)"),
        ("y ~ C(f, Treatment('b'))", "1 + C(f, Treatment('b'))"),
        ("y ~ (a + b):c", "1 + (a + b):c"),
        ("y ~ a %in% b", "1 + a %in% b"),
        ("y ~ a*b - a:b", "1 + a * b - a:b"),
        ("y ~ -x + z", "1 - x + z"),
        ("y ~ a - b + c", "1 + a - b + c"),
        ("y ~ 0 + a - b", "0 + a - b"),
        ("y ~ `my x` + z", "1 + `my x` + z"),
        ("y ~ np.log(x) + x.1", "1 + np.log(x) + x.1"),
        ("y ~ I(x > -1) + I(-x)", "1 + I(x > -1) + I(-x)"),
    ],
)
def test_fixed_part(text: str, fixed: str) -> None:
    f = parse_formula(text)
    assert f.fixed == fixed
    assert f.random == ()
    assert f.response == "y"


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
    assert parse_formula(text).fixed == fixed


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("y ~ x", "y"),
        ("   y   ~ x", "y"),
        ("log(y) ~ x", "log(y)"),
        ("log( y ) ~ x", "log(y)"),
        ("I(y / 10) ~ x", "I(y / 10)"),
        ("`my y` ~ x", "`my y`"),
        ("Reaction.ms ~ x", "Reaction.ms"),
        ("(y) ~ x", "(y)"),
        ("cbind(a,b) ~ x", "cbind(a, b)"),
    ],
)
def test_response(text: str, response: str) -> None:
    assert parse_formula(text).response == response


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
        ("y ~ (1 + x - z | g)", [("1 + x - z", ("g",), "(1 + x - z | g)")]),
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
def test_single_bar_random_terms(text: str, expected: list[Term]) -> None:
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
                ("0 + x:z", ("g",), "(0 + x:z | g)"),
                ("0 + z", ("g",), "(0 + z | g)"),
            ],
        ),
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
def test_double_bar_random_terms(text: str, expected: list[Term]) -> None:
    assert randoms(parse_formula(text)) == expected


def test_three_factor_product_expands_like_r_terms() -> None:
    lhs = [t.lhs for t in parse_formula("y ~ (0 + a*b*c || g)").random]
    assert lhs == ["0 + a", "0 + b", "0 + c", "0 + a:b", "0 + a:c", "0 + b:c", "0 + a:b:c"]


def test_no_random_term_is_not_an_error() -> None:
    f = parse_formula("y ~ x + z")
    assert f.random == () and f.fixed == "1 + x + z"


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
    assert (f.response, f.fixed) == ("y", "1 + x")
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
        ("y ~ (x - z || g)", 7, "cannot be subtracted on the left of '||'"),
        ("y ~ (a/b || g)", 6, "'/' is not supported on the left of '||'"),
        ("y ~ (a %in% b || g)", 7, "'%in%' is not supported on the left of '||'"),
        ("y ~ ((a + b) || g)", 5, "parenthesised terms are not supported on the left of '||'"),
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


def test_fixed_parts_are_valid_formulaic() -> None:
    """What the parser emits, formulaic reads with the intercept as lme4 means it."""
    formulaic = pytest.importorskip("formulaic")
    cases = {
        "y ~ x - 1 + (1|g)": ["x"],
        "y ~ log(x+1) + a:b + (1|g)": ["1", "log(x + 1)", "a:b"],
        "y ~ a*b - a:b": ["1", "a", "b"],
        "y ~ 0 + `my x`": ["my x"],
        "y ~ (1|g)": ["1"],
    }
    for text, expected in cases.items():
        f = parse_formula(text)
        assert [str(term) for term in formulaic.Formula(f.fixed)] == expected
    lhs = parse_formula("y ~ (x - 1 | g)").random[0].lhs
    assert [str(term) for term in formulaic.Formula(lhs)] == ["x"]


# --- properties -------------------------------------------------------------------------------

ALPHABET = "xyzgab~+-*/:|()01 ^`"


def reassemble(f: ModelFormula) -> str:
    """A formula written from the parts of a parsed one."""
    return " + ".join([f"{f.response} ~ {f.fixed}", *(t.text for t in f.random)])


def check_parses_or_formula_error(text: str) -> None:
    """Parse ``text``: a ModelFormula, or a FormulaError pointing inside the text; nothing else."""
    try:
        f = parse_formula(text)
    except FormulaError as error:
        assert error.formula == text
        assert error.position is not None and 0 <= error.position <= max(len(text) - 1, 0)
        return
    assert isinstance(f, ModelFormula) and f.text == text
    assert f.fixed.startswith(("0", "1")) and f.response
    for term in f.random:
        assert isinstance(term, RandomTerm) and term.group and all(term.group)
        assert term.lhs.startswith(("0", "1")) and term.lhs != "0"
    # Writing the parts back gives the same parse.
    again = parse_formula(reassemble(f))
    assert (again.response, again.fixed, again.random) == (f.response, f.fixed, f.random)


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
def random_term(draw: st.DrawFn) -> tuple[list[str], list[Term]]:
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
def structured_formula(draw: st.DrawFn) -> tuple[str, str, list[Term]]:
    """A valid formula with random spacing, its expected fixed part and random terms."""
    fixed_vars = draw(st.lists(st.sampled_from(VARIABLES), max_size=3, unique=True))
    intercept = draw(st.sampled_from(["", "1", "0", "-1"]))
    # Items are (sign, tokens, expected random terms); fixed variables expect none.
    items: list[tuple[str, list[str], list[Term]]] = [("+", [v], []) for v in fixed_vars]
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
def test_structured_formulas_parse_to_the_expected_terms(case: tuple[str, str, list[Term]]) -> None:
    text, fixed, expected = case
    f = parse_formula(text)
    assert f.response == "y"
    assert f.fixed == fixed
    assert randoms(f) == expected
