"""``lmmdx check-invariance``: the invariance self-test from the command line."""

from __future__ import annotations

import json

from support import DATA

from lmmdx.cli.main import main

SEED = str(DATA / "seed_example.csv")


def test_json_lists_variants_and_no_finding(capsys):
    code = main(["check-invariance", SEED, "y ~ x + (x | group)", "--ml", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["reml"] is False and payload["agrees"] is True and payload["findings"] == []
    assert {v["name"] for v in payload["variants"]} == {"rows", "scale_x1000", "scale_x0.001", "sign", "levels"}
    assert payload["objective_spread"] < 1e-7


def test_text_shows_the_table(capsys):
    code = main(["check-invariance", SEED, "y ~ x + (x | group)", "--ml"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "Invariance check of y ~ x + (x | group) (ML" in out
    assert "scale_x1000" in out and "No finding" in out


def test_bad_formula_is_one_line(capsys):
    code = main(["check-invariance", SEED, "y ~ x + (x | group"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
