"""common/last_good_file.py: re-read on a new modification time, the last good version kept otherwise."""

import os

import pytest

from common.last_good_file import LastGoodFile


class Invalid(ValueError):
    pass


def parse(path):
    text = path.read_text()
    if not text.isdigit():
        raise Invalid(text)
    return int(text)


def write(path, text, mtime):
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_a_changed_file_is_read_again_and_a_broken_edit_keeps_the_last_good_version(tmp_path, caplog):
    path = tmp_path / "n.txt"
    numbers = LastGoodFile(parse, Invalid, "Numbers file")
    write(path, "1", 1000)
    assert numbers.get(path) == 1
    write(path, "2", 2000)
    assert numbers.get(path) == 2
    write(path, "oops", 3000)
    assert numbers.get(path) == 2
    assert "Numbers file" in caplog.text and "keeping the previous version" in caplog.text


def test_only_a_file_never_read_well_raises(tmp_path):
    path = tmp_path / "n.txt"
    write(path, "oops", 1000)
    with pytest.raises(Invalid):
        LastGoodFile(parse, Invalid, "Numbers file").get(path)


def test_a_missing_file_raises_or_keeps_the_last_good_version_when_told(tmp_path):
    path = tmp_path / "n.txt"
    numbers = LastGoodFile(parse, Invalid, "Numbers file")
    with pytest.raises(FileNotFoundError):
        numbers.get(path)
    with pytest.raises(Invalid, match="gone"):
        numbers.get(path, unreadable=lambda error: Invalid(f"gone: {error}"))
    write(path, "7", 1000)
    assert numbers.get(path) == 7
    path.unlink()
    assert numbers.get(path, unreadable=lambda error: Invalid("gone")) == 7
    with pytest.raises(FileNotFoundError):
        numbers.get(path)
