"""The seed reader's constants against what they stand for, and the lines its errors name."""

from __future__ import annotations

from pathlib import Path

from dvt.seeds.reader import PYTHON_WHITESPACE, SeedCsv


def test_python_whitespace_is_what_str_strip_removes() -> None:
    every = "".join(chr(i) for i in range(0x110000) if chr(i).isspace())
    assert every == PYTHON_WHITESPACE
    assert PYTHON_WHITESPACE.strip() == ""


def test_line_of_counts_the_file_lines_as_seed_errors_do(tmp_path: Path) -> None:
    """Header line 1; a row starts on the line its first field starts on, after values written
    on several lines, blank lines and a byte order mark."""
    path = tmp_path / "codes.csv"
    path.write_text('\ufeffcode,note\n1,"a\nb\nc"\n\n2,x\n' + "3," + "y" * 150 + "\n")
    seed = SeedCsv.open(path, "seeds/codes.csv", ",")
    assert seed.line_of(0, "1") == 2
    assert seed.line_of(0, "2") == 6
    assert seed.line_of(1, "x") == 6
    assert seed.line_of(1, "y" * 100, prefix=True) == 7
    assert seed.line_of(1, "y" * 100) is None
    assert seed.line_of(0, "nowhere") is None
