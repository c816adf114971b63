"""Masks phone numbers, e-mail addresses and tokens in every log record of the service.

`mask_customer_text` masks more (order and ticket ids too) for customer texts the studio keeps.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any, Dict, Text

# Every pattern here sees customer input or request URLs: each is linear-time (bounded repetitions, no
# nested unbounded quantifiers), and a log line is cut to MAX_LOG_CHARS before any of them runs.
MAX_LOG_CHARS = 4000

# Vietnamese mobile/landline numbers: 0 or +84/84 then 9 digits, optionally split by spaces, dots, dashes,
# the area code optionally in brackets: `(091) 234 5678`.
PHONE_PATTERN = re.compile(r"(?<![\d+])\(?(?:\+?84|0)(?:\)?[\s.\-]?\)?\d){9}(?!\d)")
# `@` also URL-encoded (`%40`), as it appears in access-log query strings. Local part and labels are
# bounded as in RFC 5321 (64 / 63 characters), which keeps the match linear on long runs without `@`.
EMAIL_PATTERN = re.compile(
    r"([A-Za-z0-9._%+\-]{1,64})(@|%40)([A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24})"
)
# Customer texts kept by the studio (inbox): landlines have one digit more (02x + 8 digits).
CUSTOMER_PHONE_PATTERN = re.compile(r"(?<![\d+])\(?(?:\+?84|0)(?:\)?[\s.\-]?\)?\d){9,10}(?!\d)")
# CCCD (12 digits), bank cards (13-19) and bank accounts (8-19 digits): long digit runs, optionally
# grouped by spaces or dashes. Money written with thousands dots (`12.500.000đ`) is not one of them.
ACCOUNT_NUMBER_PATTERN = re.compile(r"(?<![\w.,])\d(?:[ \-]?\d){7,18}(?![\w.,]\d|\d)")
# one-time codes: 4-8 digits right after "OTP" / "mã xác thực" / "mã xác nhận"
OTP_PATTERN = re.compile(
    r"((?:otp|m[aã] x[aá]c (?:th[uự]c|nh[aậ]n))\W{0,3}(?:(?:l[aà]|code|s[oố])\W{1,3})?)(\d{4,8})(?!\d)",
    re.IGNORECASE,
)
ORDER_ID_PATTERN = re.compile(r"(?<![A-Za-z0-9])SM\d{8}(?!\d)", re.IGNORECASE)
TICKET_ID_PATTERN = re.compile(r"(?<![A-Za-z0-9])KN-\d{8}-\d{4,}(?!\d)", re.IGNORECASE)
ORDER_ID_MASK = "SM********"
TICKET_ID_MASK = "KN-********-****"
TOKEN_PATTERN = re.compile(r"((?:[?&]|\b)(?:token|session_id|secret|password)=)[^&\s\"']+")
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


def mask_digits(number: Text) -> Text:
    """`0123 4567 8901` → `**********01`: only the last two digits stay."""
    digits = re.sub(r"\D", "", number)
    return "*" * (len(digits) - 2) + digits[-2:]


def _mask_contacts(text: Text, phone_pattern: "re.Pattern[str]") -> Text:
    """E-mails, phone numbers and one-time codes."""
    text = EMAIL_PATTERN.sub(lambda m: f"{m.group(1)[:1]}***{m.group(2)}{m.group(3)}", text)
    text = OTP_PATTERN.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)
    return phone_pattern.sub(lambda m: mask_phone(m.group(0)), text)


def clip(text: Text, limit: int = MAX_LOG_CHARS) -> Text:
    """At most `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} ký tự bị cắt]"


def mask_text(text: Text) -> Text:
    """A log line, clipped, with personal data and tokens masked."""
    if not text:
        return text
    text = TOKEN_PATTERN.sub(r"\1***", clip(text))
    # long digit runs stay: in logs they are Messenger ids and timestamps, not customers' numbers
    return BEARER_PATTERN.sub(r"\1***", _mask_contacts(text, PHONE_PATTERN))


def mask_customer_text(text: Text) -> Text:
    """A customer's message without personal data: ids, e-mails, phones, card/CCCD/account numbers and
    one-time codes masked.

    `Đơn SM12345678, sđt 0912345678, mail lan@gmail.com, phiếu KN-20261122-0042` →
    `Đơn SM********, sđt 09******78, mail l***@gmail.com, phiếu KN-********-****`.
    """
    if not text:
        return text
    text = TICKET_ID_PATTERN.sub(TICKET_ID_MASK, text)
    return mask_personal(ORDER_ID_PATTERN.sub(ORDER_ID_MASK, text))


def mask_personal(text: Text) -> Text:
    """Personal data in a customer's words: e-mails, phones, one-time codes, card/CCCD/account numbers
    (order and ticket ids stay: agents need them)."""
    if not text:
        return text
    text = _mask_contacts(text, CUSTOMER_PHONE_PATTERN)
    return ACCOUNT_NUMBER_PATTERN.sub(lambda m: mask_digits(m.group(0)), text)


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
        "filters": {"pii": {"()": "common.privacy.PiiMaskingFilter"}},
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
