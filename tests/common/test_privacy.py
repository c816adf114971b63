"""No phone number, e-mail or token reaches a log line."""

import io
import logging
import logging.config
import os
import subprocess
import sys

import pytest

from common.privacy import PiiMaskingFilter, mask_email, mask_phone, mask_text
from handoff.settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("0912345678", "09******78"),
        ("SĐT: 0912 345 678.", "SĐT: 09******78."),
        ("+84 912-345-678", "09******78"),
        ("84912345678", "09******78"),
        ("lan.nguyen@gmail.com", "l***@gmail.com"),
        ("q=lan%40gmail.com&x=1", "q=l***%40gmail.com&x=1"),
        ("/api/events?token=abc123&x=1", "/api/events?token=***&x=1"),
        ("GET /chat/history?session_id=0a1b.2c3d HTTP/1.1", "GET /chat/history?session_id=*** HTTP/1.1"),
        ("Authorization: Bearer s3cr3t.t0k3n", "Authorization: Bearer ***"),
        # not personal data: order ids, ticket ids, timestamps, Messenger ids
        ("SM12345678 KN-20261123-0001 1795400000.123 1234567890123456", None),
    ],
)
def test_mask_text(raw, masked):
    assert mask_text(raw) == (raw if masked is None else masked)


def test_mask_helpers():
    assert mask_phone("0987654321") == "09******21"
    assert mask_email("hotro@senmart.vn") == "h***@senmart.vn"


def _capture(logger_name: str):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s | %(request)s"))
    handler.addFilter(PiiMaskingFilter())
    logger = logging.getLogger(logger_name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_filter_masks_message_args_extras_and_traceback():
    logger, stream = _capture("test.privacy")
    logger.info(
        "customer %s wrote from %s",
        "lan@gmail.com",
        "0912345678",
        extra={"request": "GET http://x/api/tickets?q=0912345678"},
    )
    try:
        raise ValueError("bad email minh@yahoo.com")
    except ValueError:
        logger.exception("failed for %s", "0987654321", extra={"request": "-"})
    output = stream.getvalue()
    assert "customer l***@gmail.com wrote from 09******78 | GET http://x/api/tickets?q=09******78" in output
    assert "failed for 09******21" in output
    assert "m***@yahoo.com" in output
    for raw in ("lan@gmail.com", "0912345678", "minh@yahoo.com", "0987654321"):
        assert raw not in output


def test_service_logging_config_filters_every_handler():
    """The service's logging config, applied in a fresh interpreter (dictConfig replaces the logging of the
    whole process, which would also close the handlers other tests' libraries installed)."""
    script = (
        "import logging, logging.config\n"
        "from common.privacy import logging_config\n"
        "logging.config.dictConfig(logging_config())\n"
        "logging.getLogger('handoff.test').info('call 0912345678')\n"
        "logging.getLogger('sanic.access').info('', extra={'host': '127.0.0.1', "
        "'request': 'GET /?email=a.b@c.vn', 'status': 200, 'byte': 1})\n"
        "logging.getLogger('some.library').warning('lan@gmail.com')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert "09******78" in err and "a***@c.vn" in err and "l***@gmail.com" in err
    assert "0912345678" not in err and "a.b@c.vn" not in err and "lan@gmail.com" not in err


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("gọi mình số (091) 234 5678 nhé", "gọi mình số 09******78 nhé"),
        ("CCCD 012345678901 của tôi", "CCCD **********01 của tôi"),
        ("thẻ 4111 1111 1111 1111 bị trừ tiền", "thẻ **************11 bị trừ tiền"),
        ("stk 1903-6612-3456 techcombank", "stk **********56 techcombank"),
        ("mã OTP là 483920 nè", "mã OTP là ****** nè"),
        ("ma xac thuc: 1234", "ma xac thuc: ****"),
        ("đơn SM12345678 bị trừ 12.500.000đ", "đơn SM******** bị trừ 12.500.000đ"),
    ],
)
def test_mask_customer_text_covers_ids_cards_and_codes(raw, masked):
    from common.privacy import mask_customer_text

    assert mask_customer_text(raw) == masked


@pytest.mark.parametrize("run", ["a" * 20000, "a." * 10000, "a@" * 10000, "%40" * 7000])
def test_long_hostile_runs_are_clipped_before_masking(run):
    """A log line is cut to MAX_LOG_CHARS before the patterns run (the patterns themselves are bounded;
    their cost on such runs is measured by `make abuse`)."""
    from common.privacy import MAX_LOG_CHARS

    masked = mask_text(run)
    assert masked.endswith(f"… [{len(run) - MAX_LOG_CHARS} ký tự bị cắt]")
    assert len(masked) <= MAX_LOG_CHARS + len(f"… [{len(run)} ký tự bị cắt]")


def test_customer_slots_mask_every_phone_and_email_key():
    from handoff.ticket_rules import mask_customer

    masked = mask_customer(
        {"customer_phone": "0912345678", "customer_email": "lan@gmail.com", "note": "CCCD 012345678901"}
    )
    assert masked == {
        "customer_phone": "09******78",
        "customer_email": "l***@gmail.com",
        "note": "CCCD **********01",
    }
