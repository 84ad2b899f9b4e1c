"""Reading data files as users have them (issue 12): separators, decimal commas, encodings,
byte-order marks, comments, standard input, R's missing values, and one-line advice when a
file looks written another way than it is read."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from support import DATA
from support import run_cli as run

from lmmdx.cli.io import ReadOptions, check_columns, read_table
from lmmdx.errors import DataError

FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "sleepstudy.csv")
    frame["Reaction"] = frame["Reaction"].round(4)
    return frame


def fit_json(capsys, path, *options: str) -> dict:
    code, out, err = run(capsys, "fit", str(path), FORMULA, "--json", *options)
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def one_line_error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lmmdx: error: "), err
    return lines[0]


def same_fit(a: dict, b: dict) -> None:
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-9)
    for fa, fb in zip(a["fixed_effects"], b["fixed_effects"], strict=True):
        assert fa["estimate"] == pytest.approx(fb["estimate"], rel=1e-9)


def european(frame: pd.DataFrame) -> str:
    """The frame as Excel writes CSV in much of Europe: ';' between fields, ',' as decimal mark."""
    return frame.to_csv(index=False, sep=";", decimal=",")


def test_semicolon_decimal_comma_file_fits_like_the_comma_file(capsys, tmp_path, sleep):
    plain, euro = tmp_path / "plain.csv", tmp_path / "euro.csv"
    sleep.to_csv(plain, index=False)
    euro.write_text(european(sleep))
    assert euro.read_text().splitlines()[1] == "249,56;0;308"
    same_fit(fit_json(capsys, euro, "--sep", ";", "--decimal", ","), fit_json(capsys, plain))


def test_semicolon_file_without_sep_says_which_option(capsys, tmp_path, sleep):
    euro = tmp_path / "euro.csv"
    euro.write_text(european(sleep))
    message = one_line_error(capsys, "fit", str(euro), FORMULA)
    assert "single column 'Reaction;Days;Subject'" in message
    assert "--sep ';'" in message and "--decimal ," in message


def test_tab_separated_csv_says_which_option(capsys, tmp_path, sleep):
    path = tmp_path / "tabs.csv"
    sleep.to_csv(path, index=False, sep="\t")
    assert "separated by a tab" in one_line_error(capsys, "fit", str(path), FORMULA)
    fit_json(capsys, path, "--sep", "tab")


def test_decimal_commas_alone_suggest_decimal_option(capsys, tmp_path, sleep):
    path = tmp_path / "commas.csv"
    text = sleep.to_csv(index=False, sep="\t", decimal=",")
    path.write_text(text)
    message = one_line_error(capsys, "fit", str(path), FORMULA, "--sep", "tab")
    assert "column 'Reaction' has numbers written with a decimal comma" in message and "--decimal ," in message


def test_latin1_file_suggests_encoding_and_fits_with_it(capsys, tmp_path, sleep):
    frame = sleep.assign(Subject=sleep["Subject"].map(lambda s: f"Sujet-é{s}"))
    path = tmp_path / "latin1.csv"
    path.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    message = one_line_error(capsys, "fit", str(path), FORMULA)
    assert "is not UTF-8 text (byte 0xe9)" in message and "--encoding latin-1" in message
    same_fit(fit_json(capsys, path, "--encoding", "latin-1"), fit_json(capsys, DATA / "sleepstudy.csv"))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_byte_order_marks_are_read(capsys, tmp_path, sleep, encoding):
    path = tmp_path / "bom.csv"
    path.write_bytes(sleep.to_csv(index=False).encode(encoding))
    assert path.read_bytes()[:2] in (b"\xef\xbb", b"\xff\xfe")
    same_fit(fit_json(capsys, path), fit_json(capsys, DATA / "sleepstudy.csv"))


def test_excel_unicode_text(capsys, tmp_path, sleep):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated, .txt."""
    path = tmp_path / "excel.txt"
    path.write_bytes(sleep.to_csv(index=False, sep="\t").encode("utf-16"))
    same_fit(fit_json(capsys, path), fit_json(capsys, DATA / "sleepstudy.csv"))


def test_utf16_without_bom_is_named(capsys, tmp_path, sleep):
    path = tmp_path / "nobom.csv"
    path.write_bytes(sleep.to_csv(index=False).encode("utf-16-le"))
    assert "--encoding utf-16-le" in one_line_error(capsys, "fit", str(path), FORMULA)
    fit_json(capsys, path, "--encoding", "utf-16-le")


def test_comment_lines(capsys, tmp_path, sleep):
    path = tmp_path / "comments.csv"
    path.write_text("# sleep deprivation study\n# exported 2024-01-01\n" + sleep.to_csv(index=False))
    assert "--comment '#'" in one_line_error(capsys, "fit", str(path), FORMULA)
    same_fit(fit_json(capsys, path, "--comment", "#"), fit_json(capsys, DATA / "sleepstudy.csv"))


def test_standard_input():
    data = (DATA / "sleepstudy.csv").read_bytes()
    result = subprocess.run([sys.executable, "-m", "lmmdx.cli.main", "fit", "-", FORMULA, "--json"], input=data,
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert json.loads(result.stdout)["nobs"] == 180


def test_level_spelled_none_keeps_its_rows(capsys, tmp_path):
    """R's read.csv: missing is NA or an empty field; None, null, NaN (as text), n/a are levels."""
    rng = np.random.default_rng(3)
    levels = ["None", "null", "n/a", "NaN", "nan", "A"]
    g = np.repeat(levels, 10)
    frame = pd.DataFrame({"y": rng.normal(size=60) + np.repeat(rng.normal(size=6), 10), "x": rng.normal(size=60),
                          "g": g})
    path = tmp_path / "none.csv"
    frame.to_csv(path, index=False)
    payload = json.loads(run(capsys, "fit", str(path), "y ~ x + (1 | g)", "--json")[1])
    assert payload["nobs"] == 60 and payload["ngroups"] == {"g": 6} and payload["n_missing"] == 0
    frame = frame.astype({"x": object, "g": object})
    frame.loc[0, "g"] = ""  # an empty field: missing
    frame.loc[1, "x"] = "NA"  # R's missing value
    frame.to_csv(path, index=False)
    assert path.read_text().splitlines()[1].endswith(",") and ",NA," in path.read_text()
    payload = json.loads(run(capsys, "fit", str(path), "y ~ x + (1 | g)", "--json")[1])
    assert payload["nobs"] == 58 and payload["n_missing"] == 2
    payload = json.loads(run(capsys, "fit", str(path), "y ~ x + (1 | g)", "--json", "--na-values", "None")[1])
    assert payload["nobs"] == 50 and payload["ngroups"] == {"g": 5}


def test_nan_and_inf_in_a_numeric_column_are_numbers(tmp_path):
    path = tmp_path / "special.csv"
    path.write_text("y,x,g\n1,NaN,a\n2,Inf,a\n3,-Inf,b\n4,1.5,b\n5,NA,c\n")
    frame = read_table(str(path))
    assert frame["x"].dtype.kind == "f"
    assert np.isnan(frame["x"][0]) and frame["x"][1] == np.inf and frame["x"][2] == -np.inf
    assert frame["x"].isna().sum() == 2


def test_a_few_words_in_a_numeric_column_are_reported(capsys, tmp_path):
    rng = np.random.default_rng(4)
    dose = rng.integers(1, 50, 60).astype(str).astype(object)
    dose[17] = "10 mg"
    frame = pd.DataFrame({"y": rng.normal(size=60), "dose": dose, "g": np.repeat(list("abcdef"), 10)})
    path = tmp_path / "dose.csv"
    frame.to_csv(path, index=False)
    message = one_line_error(capsys, "fit", str(path), "y ~ dose + (1 | g)")
    assert "column 'dose' is numeric except for 1 value such as '10 mg' (line 19)" in message
    assert "--na-values '10 mg'" in message
    payload = json.loads(run(capsys, "fit", str(path), "y ~ dose + (1 | g)", "--json", "--na-values", "10 mg")[1])
    assert payload["nobs"] == 59 and [f["term"] for f in payload["fixed_effects"]] == ["(Intercept)", "dose"]


def test_coded_levels_stay_a_factor(capsys, tmp_path):
    """Few distinct numbers and a word (1, 2, 3, placebo) are a categorical, not stray values."""
    rng = np.random.default_rng(5)
    arm = np.tile(["1", "2", "3", "placebo"], 15)
    frame = pd.DataFrame({"y": rng.normal(size=60), "arm": arm, "g": np.repeat(list("abcdef"), 10)})
    path = tmp_path / "arms.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run(capsys, "fit", str(path), "y ~ arm + (1 | g)", "--json")
    assert code == 0 and len(json.loads(out)["fixed_effects"]) == 4


def test_dates_are_named(capsys, tmp_path):
    rng = np.random.default_rng(6)
    dates = pd.date_range("2021-01-01", periods=60).strftime("%Y-%m-%d")
    frame = pd.DataFrame({"y": rng.normal(size=60), "day": dates, "g": np.repeat(list("abcdef"), 10)})
    path = tmp_path / "dates.csv"
    frame.to_csv(path, index=False)
    message = one_line_error(capsys, "fit", str(path), "y ~ day + (1 | g)")
    assert "column 'day' holds dates or times (e.g. '2021-01-01')" in message and "days since" in message
    # as a grouping factor, dates are levels like any others
    _code, _, err = run(capsys, "fit", str(path), "y ~ 1 + (1 | day)", "--json")
    assert "dates" not in err


def test_only_the_columns_the_formula_uses_are_read(tmp_path):
    """A wide file (20,000 columns) is read as the three columns the formula names."""
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(50, 20_000)), columns=[f"c{i}" for i in range(20_000)])
    frame["g"] = np.repeat(list("abcde"), 10)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    seen: list[list[str]] = []

    def select(names: list[str]) -> list[str]:
        seen.append(names)
        return ["c7", "c19999", "g"]

    read = read_table(str(path), select=select)
    assert list(read.columns) == ["c7", "c19999", "g"] and len(seen[0]) == 20_001
    np.testing.assert_allclose(read["c19999"], frame["c19999"], rtol=1e-15)


def test_parquet_reads_only_the_columns_asked(tmp_path):
    path = tmp_path / "data.parquet"
    pd.read_csv(DATA / "sleepstudy.csv").assign(extra=1.0).to_parquet(path)
    assert list(read_table(str(path), select=lambda names: ["Days", "Reaction"]).columns) == ["Reaction", "Days"]


def test_duplicate_header_names_are_numbered_as_r_does(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("y,x,x,\n1,2,3,4\n")
    assert list(read_table(str(path)).columns) == ["y", "x", "x.1", "Unnamed: 3"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (b"\x00\x01\x02\x03binary" * 20, "is a binary file"),
    (b"PK\x03\x04" + b"\x00" * 40, "Excel workbook"),
    (b"y,x,g\n1,2\n3,4,5,6\n", "line 3 has 4 fields where the header has 3"),
])
def test_unreadable_files_are_one_line(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert message in one_line_error(capsys, "fit", str(path), "y ~ x + (1 | g)")


def test_check_columns_ignores_real_categoricals():
    frame = pd.DataFrame({"treatment": ["a", "b", "c"] * 5, "x": [str(i) for i in range(15)]})
    check_columns(frame, ["treatment", "x"], ReadOptions())
    with pytest.raises(DataError, match="decimal comma"):
        check_columns(pd.DataFrame({"x": ["1,5", "2,25", "3,0"]}), ["x"])
