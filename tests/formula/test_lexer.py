"""Tests of the formula tokenizer and bracket matcher."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lmmdx.formula
from lmmdx.errors import FormulaError
from lmmdx.formula.lexer import (
    BACKTICK,
    MAX_DEPTH,
    NAME,
    NUMBER,
    OP,
    STRING,
    Token,
    match_brackets,
    tokenize,
    unquote,
)


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    """The (kind, text) pairs of the tokens of ``text``."""
    return [(t.kind, t.text) for t in tokenize(text)]


def test_tokens_carry_kind_text_and_position() -> None:
    tokens = tokenize("log(y) ~ x + `my var`")
    assert tokens == [
        Token(NAME, "log", 0),
        Token(OP, "(", 3),
        Token(NAME, "y", 4),
        Token(OP, ")", 5),
        Token(OP, "~", 7),
        Token(NAME, "x", 9),
        Token(OP, "+", 11),
        Token(BACKTICK, "`my var`", 13),
    ]
    assert tokens[-1].end == 21
    assert tokens[1].is_op("(", "[") and not tokens[0].is_op("log")


def test_whitespace_of_every_kind_is_skipped() -> None:
    assert kinds_and_texts(" \ty\n~\r\nx ") == [(NAME, "y"), (OP, "~"), (NAME, "x")]
    assert tokenize("") == [] and tokenize("   ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("np.log", [(NAME, "np.log")]),
        ("x.1", [(NAME, "x.1")]),
        (".x", [(NAME, ".x")]),
        (".", [(NAME, ".")]),
        ("_a1", [(NAME, "_a1")]),
        ("größe", [(NAME, "größe")]),
        ("12", [(NUMBER, "12")]),
        ("1.5", [(NUMBER, "1.5")]),
        (".5", [(NUMBER, ".5")]),
        ("1e-3", [(NUMBER, "1e-3")]),
        ("2E+10", [(NUMBER, "2E+10")]),
        ("2L", [(NUMBER, "2L")]),
        ("0x1F", [(NUMBER, "0x1F")]),
        ("1e", [(NUMBER, "1e")]),
        ("x1e", [(NAME, "x1e")]),
        ("'a b'", [(STRING, "'a b'")]),
        ('"a\\"b"', [(STRING, '"a\\"b"')]),
        ("'|~'", [(STRING, "'|~'")]),
        ("`a|b ~ c`", [(BACKTICK, "`a|b ~ c`")]),
    ],
)
def test_word_tokens(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds_and_texts(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a||b", ["a", "||", "b"]),
        ("a|b", ["a", "|", "b"]),
        ("x**2", ["x", "**", "2"]),
        ("x^2", ["x", "^", "2"]),
        ("a//b", ["a", "//", "b"]),
        ("a==b", ["a", "==", "b"]),
        ("a!=b", ["a", "!=", "b"]),
        ("a<=b>=c", ["a", "<=", "b", ">=", "c"]),
        ("a%in%b", ["a", "%in%", "b"]),
        ("a %/% b", ["a", "%/%", "b"]),
        ("a % b", ["a", "%", "b"]),
        ("x-1", ["x", "-", "1"]),
        ("a:b/c*d", ["a", ":", "b", "/", "c", "*", "d"]),
        ("f(x, k=2)[1]", ["f", "(", "x", ",", "k", "=", "2", ")", "[", "1", "]"]),
    ],
)
def test_operator_tokens_use_longest_match(text: str, expected: list[str]) -> None:
    assert [t.text for t in tokenize(text)] == expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("y ~ `x", 4, "unterminated backtick"),
        ("`y ~ x", 0, "unterminated backtick"),
        ("y ~ `a` + `b", 10, "unterminated backtick"),
        ("y ~ ``", 4, "empty backtick"),
        ("y ~ 'abc", 4, "unterminated string"),
        ('y ~ I("a\\")', 6, "unterminated string"),
        ("y ~ x # note", 6, "unexpected character '#'"),
        ("y ~ {x}", 4, "unexpected character '{'"),
        ("y ~ x; z", 5, "unexpected character ';'"),
        ("y ~ x?", 5, "unexpected character '?'"),
    ],
)
def test_tokenize_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as info:
        tokenize(text)
    assert fragment in str(info.value)
    assert info.value.position == position
    assert info.value.formula == text
    assert f"at position {position + 1} of {text!r}" in str(info.value)


def test_match_brackets_pairs_nested_brackets() -> None:
    tokens = tokenize("f(a[1], (b))")
    assert match_brackets(tokens, "f(a[1], (b))") == [-1, 10, -1, 5, -1, 3, -1, 9, -1, 7, 1]


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("y ~ (x", 4, "unclosed '('"),
        ("y ~ log(x + (1|g)", 7, "unclosed '('"),
        ("y ~ ((x", 5, "unclosed '('"),
        ("y ~ x[1", 5, "unclosed '['"),
        ("y ~ x)", 5, "unmatched ')'"),
        ("y ~ x + (1|g))", 13, "unmatched ')'"),
        (")y ~ x", 0, "unmatched ')'"),
        ("y ~ x]", 5, "unmatched ']'"),
        ("y ~ x[1)", 7, "')' does not close the '[' at position 6"),
        ("y ~ (x]", 6, "']' does not close the '('"),
    ],
)
def test_match_brackets_errors(text: str, position: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as info:
        match_brackets(tokenize(text), text)
    assert fragment in str(info.value)
    assert info.value.position == position


def test_match_brackets_limits_depth() -> None:
    text = "(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(FormulaError, match="nested more than") as info:
        match_brackets(tokenize(text), text)
    assert info.value.position == MAX_DEPTH
    ok = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert match_brackets(tokenize(ok), ok)[0] == 2 * MAX_DEPTH


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("`my x`", "my x"),
        ("`a\\`b`", "a`b"),
        ("`a\\\\b`", "a\\b"),
        ("`a\\nb`", "a\\nb"),
        ("`x ~ (1|g)`", "x ~ (1|g)"),
    ],
)
def test_backtick_names_escape_backticks_and_backslashes(text: str, name: str) -> None:
    (token,) = tokenize(text)
    assert token.kind == BACKTICK and unquote(token) == name


def test_formula_modules_import_no_numerics() -> None:
    """The lexer and the parser are pure string processing."""
    folder = Path(lmmdx.formula.__file__).parent
    for name in ("__init__.py", "lexer.py", "parse.py", "terms.py", "expr.py", "functions.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert not imported & {"numpy", "pandas", "formulaic", "scipy"}, (name, imported)
