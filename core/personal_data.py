"""Personal data: Chinese resident ID numbers (身份证号) and mobile numbers.

ID numbers are never stored whole. We keep a keyed hash (to find duplicates and
match a household on re-import) and a masked form for the screen. Phone numbers
are stored for contact but only ever shown masked. A logging filter masks both
patterns in every log record as a second line of defence.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from flask_babel import gettext as _

from core.errors import ValidationFailed

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
ID_NUMBER_RE = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def normalise_id_number(raw: str) -> str:
    """Validate an 18-digit ID number (GB 11643-1999 check digit) and return it upper-cased."""
    value = (raw or "").strip().upper()
    if not re.fullmatch(r"[1-9][0-9]{16}[0-9X]", value):
        raise ValidationFailed(_("ID number must have 18 characters: 17 digits and a digit or X"))
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValidationFailed(_("ID number check digit does not match"))
    return value


def hash_id_number(value: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def normalise_phone(raw: str) -> str:
    value = re.sub(r"[\s-]", "", raw or "")
    if value.startswith("+86"):
        value = value[3:]
    if not re.fullmatch(r"1[3-9][0-9]{9}", value):
        raise ValidationFailed(_("Mobile number must be 11 digits starting with 13–19"))
    return value


def redact(text: str) -> str:
    text = ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Masks ID and mobile numbers in the rendered message and traceback of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        # A database error's text carries the statement's parameters; format the
        # traceback now (formatters reuse exc_text) so that it is masked too.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
