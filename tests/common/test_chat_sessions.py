"""Session ids are issued by the server and checked with its secret."""

import pytest

from common.chat_sessions import SESSION_ID, is_valid, issue

SECRET = "s" * 64


def test_issued_ids_check_and_differ():
    first, second = issue(SECRET), issue(SECRET)
    assert SESSION_ID.match(first) and first != second
    assert is_valid(first, SECRET) and is_valid(second, SECRET)


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcdef",  # the old client-chosen form
        "0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef",  # a made-up MAC
        "1234567890123456",  # a Messenger PSID
        "",
        None,
        42,
    ],
)
def test_ids_the_server_did_not_issue_are_refused(value):
    assert is_valid(value, SECRET) is False


def test_another_secret_or_a_changed_id_fails():
    issued = issue(SECRET)
    assert not is_valid(issued, "other-secret")
    assert not is_valid(issued + "\n", SECRET)
    assert not is_valid(issued.upper(), SECRET)
    assert not is_valid(issued, "")


def test_no_secret_no_ids():
    with pytest.raises(ValueError):
        issue("")
