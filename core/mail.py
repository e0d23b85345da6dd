"""Outgoing e-mail: SMTP when configured, the log otherwise."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> None:
    cfg = current_app.config
    if not cfg["SMTP_HOST"]:
        # No SMTP server configured: the message goes to the log so a developer
        # can follow the link. The log filter masks any phone or ID number.
        log.warning("e-mail not sent (SMTP_HOST unset); subject=%r\n%s", subject, body)
        return
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
        if cfg["SMTP_USE_TLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
        smtp.send_message(msg)
