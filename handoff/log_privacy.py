"""Masks phone numbers, e-mail addresses and tokens in every log record of the service.

`mask_customer_text` masks more (order and ticket ids too) for customer texts the studio keeps.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, Dict, Text

# Vietnamese mobile/landline numbers: 0 or +84/84 then 9 digits, optionally split by spaces, dots, dashes.
PHONE_PATTERN = re.compile(r"(?<![\d+])(?:\+?84|0)(?:[\s.\-]?\d){9}(?!\d)")
# `@` also URL-encoded (`%40`), as it appears in access-log query strings.
EMAIL_PATTERN = re.compile(r"([A-Za-z0-9._%+\-]+)(@|%40)([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})")
# Customer texts kept by the studio (inbox): landlines have one digit more (02x + 8 digits).
CUSTOMER_PHONE_PATTERN = re.compile(r"(?<![\d+])(?:\+?84|0)(?:[\s.\-]?\d){9,10}(?!\d)")
ORDER_ID_PATTERN = re.compile(r"(?<![A-Za-z0-9])SM\d{8}(?!\d)", re.IGNORECASE)
TICKET_ID_PATTERN = re.compile(r"(?<![A-Za-z0-9])KN-\d{8}-\d{4,}(?!\d)", re.IGNORECASE)
ORDER_ID_MASK = "SM********"
TICKET_ID_MASK = "KN-********-****"
TOKEN_PATTERN = re.compile(r"((?:[?&]|\b)token=)[^&\s\"']+")
BEARER_PATTERN = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/\-=]+")

# LogRecord attributes that never carry customer data
_SAFE_ATTRIBUTES = frozenset(
    {"name", "levelname", "pathname", "filename", "module", "funcName", "threadName", "processName"}
)


def mask_phone(phone: Text) -> Text:
    """`0912345678` / `+84 912 345 678` → `09******78`."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) < 5:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_email(email: Text) -> Text:
    """`lan.nguyen@gmail.com` → `l***@gmail.com`."""
    local, _, domain = email.replace("%40", "@").partition("@")
    return f"{local[:1]}***@{domain}"


def mask_text(text: Text) -> Text:
    """The text with phone numbers, e-mails and tokens masked."""
    if not text:
        return text
    text = EMAIL_PATTERN.sub(lambda m: f"{m.group(1)[:1]}***{m.group(2)}{m.group(3)}", text)
    text = PHONE_PATTERN.sub(lambda m: mask_phone(m.group(0)), text)
    text = TOKEN_PATTERN.sub(r"\1***", text)
    return BEARER_PATTERN.sub(r"\1***", text)


def mask_customer_text(text: Text) -> Text:
    """A customer's message without personal data: ids, e-mails and phones masked.

    `Đơn SM12345678, sđt 0912345678, mail lan@gmail.com, phiếu KN-20261122-0042` →
    `Đơn SM********, sđt 09******78, mail l***@gmail.com, phiếu KN-********-****`.
    """
    if not text:
        return text
    text = TICKET_ID_PATTERN.sub(TICKET_ID_MASK, text)
    text = ORDER_ID_PATTERN.sub(ORDER_ID_MASK, text)
    text = EMAIL_PATTERN.sub(lambda m: f"{m.group(1)[:1]}***@{m.group(3)}", text)
    return CUSTOMER_PHONE_PATTERN.sub(lambda m: mask_phone(m.group(0)), text)


class PiiMaskingFilter(logging.Filter):
    """Rewrites each record so no handler ever formats a raw phone number, e-mail or token."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message, its arguments, extra string fields and the traceback; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw message, masked
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key in _SAFE_ATTRIBUTES or key in ("msg", "args"):
                continue
            if isinstance(value, str):
                setattr(record, key, mask_text(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def logging_config(level: Text = "INFO") -> Dict[Text, Any]:
    """Sanic's logging layout, all to stderr, with the masking filter on every handler."""
    from sanic.log import LOGGING_CONFIG_DEFAULTS

    formatters = copy.deepcopy(LOGGING_CONFIG_DEFAULTS["formatters"])
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["pii"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"pii": {"()": "handoff.log_privacy.PiiMaskingFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {**handler, "formatter": "generic"},
            "access_console": {**handler, "formatter": "access"},
        },
        "loggers": {
            "sanic.root": {"level": level, "handlers": ["console"], "propagate": False},
            "sanic.error": {"level": level, "handlers": ["console"], "propagate": False},
            "sanic.access": {"level": level, "handlers": ["access_console"], "propagate": False},
            "handoff": {"level": level, "handlers": ["console"], "propagate": False},
        },
        # other libraries (redis, aiohttp, asyncio) log through the root logger
        "root": {"level": "WARNING", "handlers": ["console"]},
    }


def install(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (root by default) that lacks it."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
            handler.addFilter(PiiMaskingFilter())
