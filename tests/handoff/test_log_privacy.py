"""No phone number, e-mail or token reaches a log line."""

import io
import logging
import logging.config
import os
import subprocess
import sys

import pytest

from handoff.log_privacy import PiiMaskingFilter, mask_email, mask_phone, mask_text
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
        "from handoff.log_privacy import logging_config\n"
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
