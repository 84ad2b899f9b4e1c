"""The hostile-input corpus of issue 12: files, data, formulas and arguments as users (and
fuzzers) write them. Each case is a command line, the files it reads, and optionally its
standard input, the exit code and stderr text it must give, and a check of what it leaves
behind. ``tests/cli/test_corpus.py`` runs every case through the command line.

Cases are grouped in classes (``file``, ``data``, ``formula``, ``args``, ``batch``); the
generator is deterministic (fixed seeds), so the corpus is the same on every machine.
"""

from __future__ import annotations

import codecs
import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CASES", "Case"]



@dataclass(frozen=True)
class Case:
    """One input.

    Attributes
    ----------
    kind : str
        ``file``, ``data``, ``formula``, ``args`` or ``batch``.
    name : str
        Unique within its kind.
    argv : tuple of str
        The command line after ``lmmdx``; ``{name}`` stands for the path of file ``name``.
    files : dict
        File name → bytes.
    stdin : bytes or None
    codes : tuple of int
        Allowed exit codes (default: 0, 1, 2).
    message : str or None
        Text the stderr line must contain.
    check : callable(folder) -> str or None, optional
        Run after the command in its folder; returns a complaint or None.
    xfail : str or None
        Reason the case cannot pass yet (another helper's work).
    """

    kind: str
    name: str
    argv: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes | None = None
    codes: tuple[int, ...] = (0, 1, 2)
    message: str | None = None
    check: Callable[[Path], str | None] | None = None
    xfail: str | None = None

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"


def _csv(frame: pd.DataFrame, **options: object) -> bytes:
    return frame.to_csv(index=False, **options).encode()  # type: ignore[arg-type]


def _base(n: int = 60, levels: int = 6, seed: int = 1) -> pd.DataFrame:
    """A well-posed data set: y = 1 + 2x + b_g + e."""
    rng = np.random.default_rng(seed)
    g = np.repeat([f"g{i}" for i in range(levels)], n // levels)[:n]
    x = rng.normal(size=n)
    y = 1 + 2 * x + rng.normal(size=levels)[pd.factorize(g)[0]] + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=n), "g": g})


BASE = _base()
BASE_CSV = _csv(BASE)
F = "y ~ x + (1 | g)"
FS = "y ~ x + (x | g)"


def _fit(name: str, content: bytes, formula: str = F, *options: str, suffix: str = ".csv", **extra: object) -> Case:
    file = f"data{suffix}"
    return Case("data", name, ("fit", f"{{{file}}}", formula, "--json", *options), {file: content}, **extra)  # type: ignore[arg-type]


def _file(name: str, content: bytes, suffix: str = ".csv", *options: str, formula: str = F, **extra: object) -> Case:
    file = f"input{suffix}"
    return Case("file", name, ("fit", f"{{{file}}}", formula, "--json", *options), {file: content}, **extra)  # type: ignore[arg-type]


def _formula(name: str, formula: str, *options: str, command: str = "fit", **extra: object) -> Case:
    return Case("formula", name, (command, "{data.csv}", formula, "--json", *options), {"data.csv": BASE_CSV},
                **extra)  # type: ignore[arg-type]


def _args(name: str, *argv: str, **extra: object) -> Case:
    return Case("args", name, tuple(argv), {"data.csv": BASE_CSV}, **extra)  # type: ignore[arg-type]


def _no_file(name: str) -> Callable[[Path], str | None]:
    return lambda folder: f"{name} was created" if (folder / name).exists() else None


def _unchanged(name: str, content: bytes) -> Callable[[Path], str | None]:
    return lambda folder: None if (folder / name).read_bytes() == content else f"{name} was changed"


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _file_cases() -> list[Case]:
    latin = BASE.assign(g=BASE["g"].map(lambda s: f"Zürich-é-{s}"))
    rng = np.random.default_rng(2)
    wide = pd.DataFrame(rng.normal(size=(30, 20_000)), columns=[f"v{i}" for i in range(20_000)])
    wide = pd.concat([wide, BASE.iloc[:30].reset_index(drop=True)], axis=1)
    parquet = _parquet(BASE)
    crlf = BASE_CSV.replace(b"\n", b"\r\n")
    semicolon = _csv(BASE, sep=";", decimal=",")
    return [
        _file("empty", b"", message="is empty"),
        _file("blank-lines", b"\n\n\n", message="is empty"),
        _file("whitespace", b"   \n \t \n", message="is empty"),
        _file("header-only", b"y,x,g\n", message="no rows"),
        _file("header-only-bom", codecs.BOM_UTF8 + b"y,x,g\n", message="no rows"),
        _file("utf8-bom", codecs.BOM_UTF8 + BASE_CSV, codes=(0,)),
        _file("utf16-le-bom", BASE_CSV.decode().encode("utf-16"), codes=(0,)),
        _file("utf16-be-bom", codecs.BOM_UTF16_BE + BASE_CSV.decode().encode("utf-16-be"), codes=(0,)),
        _file("utf16-no-bom", BASE_CSV.decode().encode("utf-16-le"), message="--encoding utf-16-le"),
        _file("utf16-no-bom-given", BASE_CSV.decode().encode("utf-16-le"), ".csv", "--encoding", "utf-16-le",
              codes=(0,)),
        _file("utf32-bom", BASE_CSV.decode().encode("utf-32"), codes=(0,)),
        _file("latin1", _csv(latin).decode().encode("latin-1"), message="--encoding latin-1"),
        _file("latin1-given", _csv(latin).decode().encode("latin-1"), ".csv", "--encoding", "latin-1", codes=(0,)),
        _file("cp1252-quotes", _csv(BASE.assign(g=BASE["g"] + "\u201c")).decode().encode("cp1252"),
              message="--encoding"),
        _file("unknown-encoding", BASE_CSV, ".csv", "--encoding", "klingon", message="unknown encoding"),
        _file("semicolon", semicolon, message="--sep ';'"),
        _file("semicolon-given", semicolon, ".csv", "--sep", ";", "--decimal", ",", codes=(0,)),
        _file("semicolon-no-decimal", semicolon, ".csv", "--sep", ";", message="--decimal ,"),
        _file("tab-in-csv", _csv(BASE, sep="\t"), message="--sep tab"),
        _file("tab-given", _csv(BASE, sep="\t"), ".csv", "--sep", "tab", codes=(0,)),
        _file("pipe", _csv(BASE, sep="|"), message="--sep '|'"),
        _file("tsv", _csv(BASE, sep="\t"), ".tsv", codes=(0,)),
        _file("txt-semicolon", _csv(BASE, sep=";"), ".txt", codes=(0,)),
        _file("excel-sep-line", b"sep=;\n" + semicolon, ".csv", "--decimal", ",", codes=(0,)),
        _file("comments", b"# exported\n# by someone\n" + BASE_CSV, message="--comment '#'"),
        _file("comments-given", b"# exported\n" + BASE_CSV, ".csv", "--comment", "#", codes=(0,)),
        _file("truncated-csv", BASE_CSV[: len(BASE_CSV) // 2 + 7]),
        _file("truncated-parquet", parquet[: len(parquet) // 2], ".parquet", message="cannot read"),
        _file("parquet", parquet, ".parquet", codes=(0,)),
        _file("parquet-named-csv", parquet, ".csv", codes=(0,)),
        _file("random-bytes", np.random.default_rng(3).bytes(5000), message="binary"),
        _file("nul-bytes", BASE_CSV[:200] + b"\x00" * 50 + BASE_CSV[200:]),
        _file("gzip", gzip.compress(BASE_CSV), ".csv.gz", codes=(0,)),
        _file("zip", _zip(BASE_CSV), ".csv", message="Excel workbook"),
        _file("xlsx", _zip(b"<xml/>"), ".xlsx", message="Excel workbook"),
        _file("ragged-long-row", BASE_CSV + b"1,2,3,4,5,6\n", message="fields where the header has"),
        _file("ragged-short-row", BASE_CSV + b"1,2\n", codes=(0,)),
        _file("unbalanced-quote", b'y,x,g\n1,2,"a\n2,3,b\n' + BASE_CSV.split(b"\n", 1)[1]),
        _file("crlf", crlf, codes=(0,)),
        _file("cr-only", BASE_CSV.replace(b"\n", b"\r")),
        _file("mixed-newlines", BASE_CSV.replace(b"\n", b"\r\n", 20), codes=(0,)),
        _file("wide-header", _csv(wide), codes=(0,)),
        _file("long-field", _csv(BASE.assign(note=["x" * 1_000_000] + [""] * 59)), codes=(0,)),
        _file("duplicate-names", b"y,x,x,g\n" + b"\n".join(
            f"{a},{b},{b},{c}".encode() for a, b, c in BASE[["y", "x", "g"]].itertuples(index=False)) + b"\n",
              codes=(0,)),
        _file("blank-names", b",y,x,g\n" + b"\n".join(
            f"{i},{a},{b},{c}".encode() for i, (a, b, c) in enumerate(BASE[["y", "x", "g"]].itertuples(index=False)))
              + b"\n", codes=(0,)),
        _file("trailing-separator", BASE_CSV.replace(b"\n", b",\n")),
        _file("quoted-names", _csv(BASE.rename(columns={"x": "x, the covariate"})), formula="y ~ `x, the covariate` "
              "+ (1 | g)", codes=(0,)),
        Case("file", "directory", ("fit", "{folder}", F), {"folder/keep": b""}, message="is a directory"),
        Case("file", "missing", ("fit", "nope.csv", F), message="no such file"),
        Case("file", "stdin", ("fit", "-", F, "--json"), stdin=BASE_CSV, codes=(0,)),
        Case("file", "stdin-empty", ("fit", "-", F, "--json"), stdin=b"", message="is empty"),
        Case("file", "stdin-parquet", ("fit", "-", F, "--json"), stdin=parquet, codes=(0,)),
    ]


def _zip(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sheet.csv", content)
    return buffer.getvalue()


def _exact(group: bool = False) -> bytes:
    frame = BASE.assign(y=2 * BASE["x"] + 1)
    if group:
        frame["y"] = frame["y"] + pd.Series(pd.factorize(frame["g"])[0]).map(lambda i: float(i) * 0.7 - 1.3)
    return _csv(frame)


def _data_cases() -> list[Case]:
    rng = np.random.default_rng(4)
    n = len(BASE)
    dose = rng.integers(1, 50, n).astype(object)
    dose[17] = "10 mg"
    dates = pd.date_range("2021-01-01", periods=n).strftime("%Y-%m-%d")
    scales = BASE.assign(x=BASE["x"] * 1e9, z=BASE["z"] * 1e-9, y=BASE["y"] * 1e6)
    crossed = pd.DataFrame({"y": rng.normal(size=120), "a": np.tile([f"a{i}" for i in range(12)], 10),
                            "b": np.repeat([f"b{i}" for i in range(10)], 12), "x": rng.normal(size=120)})
    keywords = BASE.rename(columns={"x": "lambda", "z": "if", "g": "class"})
    functions = BASE.rename(columns={"x": "log", "z": "C", "g": "Treatment"})
    unicode = BASE.rename(columns={"y": "réponse", "x": "größe", "g": "群"})
    cases = [
        _fit("exact-intercept", _exact(), F, message="reproduces the response 'y' exactly"),
        _fit("exact-slope", _exact(), FS, message="reproduces the response 'y' exactly"),
        _fit("exact-uncorrelated", _exact(), "y ~ x + (x || g)", message="exactly"),
        Case("data", "exact-diagnose-slope", ("diagnose", "{data.csv}", FS, "--json"), {"data.csv": _exact()},
             codes=(0,)),
        Case("data", "exact-diagnose-intercept", ("diagnose", "{data.csv}", F, "--json"), {"data.csv": _exact()},
             codes=(0,)),
        Case("data", "exact-diagnose-fail-on", ("diagnose", "{data.csv}", FS, "--json", "--fail-on", "error"),
             {"data.csv": _exact()}, codes=(1,)),
        Case("data", "exact-remedy", ("remedy", "{data.csv}", FS, "--json"), {"data.csv": _exact()}, codes=(2,)),
        _fit("exact-with-groups", _exact(group=True), F),
        Case("data", "exact-with-groups-diagnose", ("diagnose", "{data.csv}", FS, "--json"),
             {"data.csv": _exact(group=True)}),
        _fit("three-rows-two-groups", b"y,x,g\n1.0,0.1,a\n2.0,0.5,a\n3.5,0.9,b\n"),
        _fit("three-rows-slopes", b"y,x,g\n1.0,0.1,a\n2.0,0.5,a\n3.5,0.9,b\n", FS, message="observations"),
        _fit("more-columns-than-rows", _csv(BASE.iloc[:8].assign(f=list("abcdefgh"))), "y ~ f + (1 | g)",
             message="observations"),
        _fit("two-levels-one-each", b"y,x,g\n1,0.1,a\n2,0.7,b\n"),
        _fit("one-level", _csv(BASE.assign(g="a")), message="only one level"),
        _fit("levels-equal-rows", _csv(BASE.assign(g=[f"l{i}" for i in range(n)])), message="as many levels"),
        _fit("constant-response", _csv(BASE.assign(y=3.0)), message="same value"),
        _fit("all-missing-response", _csv(BASE.assign(y=np.nan)), message="no rows left"),
        _fit("response-inf", BASE_CSV.replace(b"\n1.", b"\nInf,", 1)),
        _fit("covariate-inf", _csv(BASE.assign(x=BASE["x"].where(BASE.index != 5, np.inf))), message="infinite"),
        _fit("covariate-huge", _csv(BASE.assign(x=BASE["x"] * 1e200)), message="rescale"),
        _fit("covariate-tiny", _csv(BASE.assign(x=BASE["x"] * 1e-200)), message="rescale"),
        _fit("covariate-nan", _csv(BASE.assign(x=BASE["x"].where(BASE.index % 7 != 0))), codes=(0,)),
        _fit("response-bool", _csv(BASE.assign(y=BASE["y"] > 0)), message="boolean"),
        _fit("response-text", _csv(BASE.assign(y=[f"t{i}" for i in range(n)])), message="not numeric"),
        _fit("stray-words", _csv(BASE.assign(x=dose)), message="numeric except for 1 value such as '10 mg'"),
        _fit("stray-words-na", _csv(BASE.assign(x=dose)), F, "--na-values", "10 mg", codes=(0,)),
        _fit("decimal-commas", _csv(BASE, sep="\t", decimal=","), F, "--sep", "tab", message="--decimal ,"),
        _fit("dates-covariate", _csv(BASE.assign(x=dates)), message="dates"),
        _fit("dates-grouping", _csv(BASE.assign(g=np.repeat(dates[:6], 10))), "y ~ x + (1 | g)", codes=(0,)),
        _fit("none-level", _csv(BASE.assign(g=np.repeat(["None", "null", "NaN", "n/a", "NA ", "A"], 10))),
             codes=(0,)),
        _fit("scales", _csv(scales), "y ~ x + z + (x | g)"),
        _fit("scales-diagnose", _csv(scales), "y ~ x + z + (1 | g)"),
        _fit("crossed", _csv(crossed), "y ~ x + (1 | a) + (1 | b)", codes=(0,)),
        _fit("nested", _csv(crossed), "y ~ x + (1 | b/a)"),
        _fit("int-groups", _csv(BASE.assign(g=pd.factorize(BASE["g"])[0])), codes=(0,)),
        _fit("unicode-levels", _csv(BASE.assign(g=BASE["g"].map(lambda s: f"群-{s}-Ω"))), codes=(0,)),
        _fit("unicode-names", _csv(unicode), "réponse ~ größe + (1 | 群)", codes=(0,)),
        _fit("keyword-names", _csv(keywords), "y ~ lambda + `if` + (1 | class)"),
        _fit("function-names", _csv(functions), "y ~ log + C + (1 | Treatment)"),
        _fit("spaces-in-names", _csv(BASE.rename(columns={"x": "my x", "g": "site id"})),
             "y ~ `my x` + (1 | `site id`)", codes=(0,)),
        _fit("dotted-names", _csv(BASE.rename(columns={"x": "x.1", "g": "g.2"})), "y ~ x.1 + (1 | g.2)", codes=(0,)),
        _fit("big-ints", _csv(BASE.assign(x=(BASE["x"] * 1e17).astype(np.int64))), F),
        _fit("subnormals", _csv(BASE.assign(x=BASE["x"] * 1e-310)), message="rescale"),
        _fit("all-dropped", _csv(BASE.assign(x=np.nan)), message="no rows left"),
        _fit("duplicate-rows", _csv(pd.concat([BASE, BASE])), codes=(0,)),
        _fit("offset-1e8", _csv(BASE.assign(y=BASE["y"] + 1e8)), F),
        _fit("factor-60-levels", _csv(BASE.assign(f=[f"l{i}" for i in range(n)])), "y ~ f + (1 | g)",
             message="observations"),
        _fit("slope-constant-in-group", _csv(BASE.assign(x=pd.factorize(BASE["g"])[0] * 1.0)), FS),
        _fit("collinear", _csv(BASE.assign(z=2 * BASE["x"])), "y ~ x + z + (1 | g)", codes=(0,)),
        _fit("intercept-only", BASE_CSV, "y ~ 1 + (1 | g)", codes=(0,)),
        _fit("no-intercept", BASE_CSV, "y ~ 0 + x + (1 | g)", codes=(0,)),
        _fit("bool-covariate", _csv(BASE.assign(x=BASE["x"] > 0)), codes=(0,)),
        _fit("mixed-types", _csv(BASE.assign(x=[str(v) if i % 2 else f"w{i}" for i, v in enumerate(BASE["x"])])),
             "y ~ x + (1 | g)", message="observations"),
        _fit("empty-group-strings", _csv(BASE.assign(g=BASE["g"].where(BASE.index % 9 != 0, ""))), codes=(0,)),
        _fit("whitespace-level", _csv(BASE.assign(g=BASE["g"].where(BASE.index % 2 == 0, " "))), codes=(0,)),
        _fit("long-level-names", _csv(BASE.assign(g=BASE["g"].map(lambda s: s * 5000))), codes=(0,)),
        _fit("one-row", b"y,x,g\n1,2,a\n"),
        _fit("two-rows", b"y,x,g\n1,2,a\n2,3,b\n"),
        _fit("response-as-group", BASE_CSV, "y ~ x + (1 | y)", message="as many levels"),
        _fit("negative-zero", _csv(BASE.assign(x=-0.0 * BASE["x"]))),
        _fit("many-rows", _csv(_base(n=20_000, levels=200, seed=5)), FS, "--ddf", "none", codes=(0,)),
        _fit("log-negative", BASE_CSV, "y ~ log(x) + (1 | g)", message="non-finite"),
    ]
    return cases


def _formula_cases() -> list[Case]:
    deep = "y ~ " + "(" * 10_000 + "x" + ")" * 10_000 + " + (1 | g)"
    long = "y ~ " + " + ".join(["x"] * 20_000) + " + (1 | g)"
    many_terms = "y ~ x + " + " + ".join(["(1 | g)"] * 300)
    return [
        _formula("no-tilde", "y x + (1 | g)", message="lmmdx"),
        _formula("unbalanced-open", "y ~ x + (1 | g", message="position"),
        _formula("unbalanced-close", "y ~ x + 1 | g)", message="lmmdx"),
        _formula("empty", "", message="lmmdx"),
        _formula("only-tilde", "~", message="lmmdx"),
        _formula("no-rhs", "y ~", message="lmmdx"),
        _formula("no-lhs", "~ x + (1 | g)", message="lmmdx"),
        _formula("double-tilde", "y ~ x ~ z + (1 | g)", message="lmmdx"),
        _formula("no-bar", "y ~ x + (x)", message="no random-effects term"),
        _formula("bare-bar", "y ~ x | g", message="lmmdx"),
        _formula("empty-group", "y ~ x + (1 | )", message="lmmdx"),
        _formula("empty-lhs", "y ~ x + ( | g)", message="lmmdx"),
        _formula("deep-parentheses", deep, message="lmmdx"),
        _formula("long-formula", long),
        _formula("300-random-terms", many_terms, message="write each random effect once"),
        _formula("unknown-column", "y ~ w + (1 | g)", message="unknown column 'w'"),
        _formula("unknown-function", "y ~ foo(x) + (1 | g)", message="foo"),
        _formula("power-tower", "y ~ I(9**9**9) + (1 | g)", message="lmmdx"),
        _formula("r-power-tower", "y ~ I(9^9^9) + (1 | g)", message="lmmdx"),
        _formula("nested-lists", "y ~ I([[[[[1]]]]]) + (1 | g)", message="lmmdx"),
        _formula("set-literal", "y ~ I({1, 2}) + (1 | g)"),
        _formula("import", "y ~ I(__import__('os').system('touch pwned')) + (1 | g)", check=_no_file("pwned"),
                 message="__import__"),
        _formula("open", "y ~ I(open('written', 'w').write('x')) + (1 | g)", check=_no_file("written"),
                 message="open"),
        _formula("dunder", "y ~ I(x.__class__) + (1 | g)"),
        _formula("lambda", "y ~ I((lambda: 1)()) + (1 | g)"),
        _formula("in-operator", "y ~ x %in% g + (1 | g)"),
        _formula("square", "y ~ I(x^2) + (1 | g)", codes=(0,)),
        _formula("log", "y ~ log(x + 10) + (1 | g)", codes=(0,)),
        _formula("interactions", "y ~ x * z * x * z + (1 | g)"),
        _formula("poly", "y ~ poly(x, 2) + (1 | g)"),
        _formula("factor", "y ~ factor(g) + (1 | g)"),
        _formula("offset", "y ~ x + offset(z) + (1 | g)"),
        _formula("string-literal", 'y ~ "a" + (1 | g)'),
        _formula("unicode-operator", "y ~ x × z + (1 | g)"),
        _formula("nul-character", "y ~ x\x01 + (1 | g)"),
        _formula("newline", "y ~ x +\n (1 | g)"),
        _formula("long-name", "y ~ " + "x" * 10_000 + " + (1 | g)", message="unknown column"),
        _formula("unterminated-backtick", "y ~ `x + (1 | g)", message="lmmdx"),
        _formula("uncorrelated", "y ~ x + (x || g)", codes=(0,)),
        _formula("duplicate-terms", "y ~ x + (x | g) + (x | g)"),
        _formula("dot", "y ~ . + (1 | g)"),
        _formula("minus-one", "y ~ x + (1 | g) - 1", codes=(0,)),
        _formula("only-minus-one", "y ~ -1 + (1 | g)"),
        _formula("constant-response", "1 ~ 1 + (1 | g)"),
        _formula("response-expression", "log(y + 10) ~ x + (1 | g)", codes=(0,)),
        _formula("ml", "y ~ x + (x | g)", "--ml", codes=(0,)),
        _formula("grouping-expression", "y ~ x + (1 | log(x))"),
        _formula("random-only", "y ~ (1 | g)", codes=(0,)),
        _formula("numbers-as-names", "y ~ 1e309 + (1 | g)"),
        _formula("diagnose-deep", deep, command="diagnose", message="lmmdx"),
    ]


def _args_cases() -> list[Case]:
    return [
        _args("level-1.5", "fit", "{data.csv}", F, "--ci", "wald", "--level", "1.5", message="between 0 and 1"),
        _args("level-95", "fit", "{data.csv}", F, "--ci", "wald", "--level", "95", message="0.95"),
        _args("level-text", "fit", "{data.csv}", F, "--level", "high", message="not a number"),
        _args("seed-negative", "fit", "{data.csv}", F, "--ci", "bootstrap", "--nsim", "5", "--seed", "-1",
              message="at least 0"),
        _args("workers-300", "fit", "{data.csv}", F, "--ci", "bootstrap", "--nsim", "20", "--seed", "1",
              "--workers", "300", "--json", codes=(0,)),
        _args("nsim-zero", "fit", "{data.csv}", F, "--ci", "bootstrap", "--nsim", "0", message="at least 1"),
        _args("unknown-command", "frobnicate", "{data.csv}", F, message="invalid choice"),
        _args("no-arguments", codes=(2,)),
        _args("missing-formula", "fit", "{data.csv}", message="required"),
        _args("bad-ddf", "fit", "{data.csv}", F, "--ddf", "magic", message="invalid choice"),
        _args("anova-2", "fit", "{data.csv}", F, "--anova", "2", message="invalid choice"),
        _args("sep-two-chars", "fit", "{data.csv}", F, "--sep", "ab", message="one character"),
        _args("decimal-x", "fit", "{data.csv}", F, "--decimal", "x", message="decimal mark"),
        _args("comment-empty", "fit", "{data.csv}", F, "--comment", "", message="one character"),
        _args("compare-non-nested", "compare", "{data.csv}", F, "y ~ z + (1 | g)", "--json"),
        _args("compare-ols", "compare", "{data.csv}", F, "y ~ x", "--json", codes=(0,)),
        _args("remedy", "remedy", "{data.csv}", FS, "--json", codes=(0,)),
        Case("args", "invariance-tiny", ("check-invariance", "{tiny.csv}", F, "--json"),
             {"tiny.csv": b"y,x,g\n1.0,0.1,a\n2.0,0.5,a\n3.5,0.9,b\n1.5,0.3,b\n"}),
        _args("diagnose-fail-on", "diagnose", "{data.csv}", FS, "--json", "--fail-on", "warning", codes=(0, 1)),
        _args("demo-json", "demo", "--json", codes=(0,)),
        _args("profile", "fit", "{data.csv}", F, "--ci", "profile", "--json", codes=(0,)),
        _args("anova-1", "fit", "{data.csv}", "y ~ x + z + (1 | g)", "--anova", "1", "--json", codes=(0,)),
        Case("args", "report-exact", ("report", "{data.csv}", FS, "-o", "report.html"), {"data.csv": _exact()},
             codes=(2,), message="reproduces the response 'y' exactly", check=_no_file("report.html")),
        Case("args", "report-directory", ("report", "{data.csv}", F, "-o", "{folder.html}"),
             {"data.csv": BASE_CSV, "folder.html/keep": b""}, message="is a directory"),
        _args("report-suffix", "report", "{data.csv}", F, "-o", "report.txt", message="must end in .html"),
        _args("kenward-roger-ml", "fit", "{data.csv}", F, "--ddf", "kenward-roger", "--ml", "--json"),
    ]


def _batch(name: str, *argv: str, files: dict[str, bytes] | None = None, **extra: object) -> Case:
    return Case("batch", name, ("batch", *argv, "--no-progress"), files or {"data.csv": _wide()},
                **extra)  # type: ignore[arg-type]


def _wide() -> bytes:
    rng = np.random.default_rng(9)
    frame = BASE.copy()
    for i in range(6):
        frame[f"gene{i}"] = frame["y"] + rng.normal(size=len(frame))
    frame["gene5"] = 1.0
    return _csv(frame)


def _batch_cases() -> list[Case]:
    wide = _wide()
    g = "y ~ x + (1 | g)"
    return [
        _batch("out-is-input", "{data.csv}", g, "--responses", "gene*", "--out", "{data.csv}",
               message="is the data file", check=_unchanged("data.csv", wide)),
        _batch("out-is-input-overwrite", "{data.csv}", g, "--responses", "gene*", "--out", "{data.csv}",
               "--overwrite", message="is the data file", check=_unchanged("data.csv", wide)),
        _batch("out-directory", "{data.csv}", g, "--responses", "gene*", "--out", "{folder}",
               files={"data.csv": wide, "folder/keep": b""}, message="is a directory"),
        _batch("out-exists", "{data.csv}", g, "--responses", "gene*", "--out", "{old.csv}",
               files={"data.csv": wide, "old.csv": b"precious\n"}, message="already exists",
               check=_unchanged("old.csv", b"precious\n")),
        _batch("out-bad-suffix", "{data.csv}", g, "--responses", "gene*", "--out", "out.txt",
               message=".parquet or .csv"),
        _batch("out-stdout", "{data.csv}", g, "--responses", "gene*", "--out", "-", message="file name"),
        _batch("star-pattern", "{data.csv}", g, "--responses", "*", "--out", "out.csv", message="'*' matches"),
        _batch("covariate-named", "{data.csv}", g, "--responses", "x", "--out", "out.csv", message="'x'"),
        _batch("repeated-patterns", "{data.csv}", g, "--responses", ",".join(["gene*"] * 2000), "--out",
               "out.csv", "--json", codes=(0,)),
        _batch("no-match", "{data.csv}", g, "--responses", "nope*", "--out", "out.csv", message="no column matches"),
        _batch("by-all-fail", "{data.csv}", g, "--by", "g", "--out", "out.csv", message="all 6 fits failed"),
        _batch("by-unknown", "{data.csv}", g, "--by", "nope", "--out", "out.csv", message="unknown column 'nope'"),
        _batch("workers-300", "{data.csv}", g, "--responses", "gene*", "--out", "out.parquet", "--workers", "300",
               "--json", codes=(0,)),
        _batch("resume-nothing", "{data.csv}", g, "--responses", "gene*", "--out", "out.csv", "--resume",
               "--json", codes=(0,)),
        _batch("exact-responses", "{data.csv}", g, "--responses", "gene*,exact", "--out", "out.csv", "--json",
               files={"data.csv": _csv(pd.read_csv(io.BytesIO(wide)).assign(exact=lambda d: 2 * d["x"] + 1))},
               codes=(0,)),
    ]


CASES: list[Case] = [*_file_cases(), *_data_cases(), *_formula_cases(), *_args_cases(), *_batch_cases()]
