"""The seed reader's constants against what they stand for."""

from dvt.seeds.reader import PYTHON_WHITESPACE


def test_python_whitespace_is_what_str_strip_removes() -> None:
    every = "".join(chr(i) for i in range(0x110000) if chr(i).isspace())
    assert every == PYTHON_WHITESPACE
    assert PYTHON_WHITESPACE.strip() == ""
