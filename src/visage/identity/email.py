"""Outgoing email: enqueued in the caller's transaction, sent by a background job.

With SMTP_HOST set the job delivers over SMTP (STARTTLS when the server offers it, login when
SMTP_USER is set) and is retried with backoff on failure; without it, the message is written
to `<data dir>/mail/` and logged, so development needs no mail server.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import procrastinate
from sqlalchemy.orm import Session

from visage.config import Settings, get_settings
from visage.core.jobs import enqueue, jobs

logger = logging.getLogger(__name__)

EMAIL_QUEUE = "email"
SMTP_TIMEOUT_SECONDS = 20


def build_message(
    settings: Settings, *, to: str, subject: str, body: str, html: str | None, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def mail_dir(settings: Settings) -> Path:
    return settings.visage_data_dir / "mail"


def _deliver_over_smtp(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _write_to_mail_dir(settings: Settings, message: EmailMessage) -> Path:
    folder = mail_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    # Named after the Message-ID: a retried job rewrites the same file, never a second one.
    name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
    path = folder / f"{name}.eml"
    path.write_bytes(message.as_bytes())
    return path


@jobs.task(
    name="identity.send_email",
    queue=EMAIL_QUEUE,
    retry=procrastinate.RetryStrategy(max_attempts=6, exponential_wait=5),
)
def deliver_email(to: str, subject: str, body: str, html: str | None, message_id: str) -> None:
    settings = get_settings()
    message = build_message(
        settings, to=to, subject=subject, body=body, html=html, message_id=message_id
    )
    if settings.smtp_host:
        _deliver_over_smtp(settings, message)
        logger.info("Email %s sent to %s over SMTP", message_id, to)
    else:
        path = _write_to_mail_dir(settings, message)
        logger.info("SMTP_HOST is not set: email to %s written to %s", to, path)


def send_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    schedule_at: datetime | None = None,
) -> None:
    """Queue an email (to go at `schedule_at`, if given); it is sent only if the caller's
    transaction commits."""
    enqueue(
        session,
        deliver_email,
        schedule_at=schedule_at,
        to=to,
        subject=subject,
        body=body,
        html=html,
        message_id=make_msgid(domain="visage"),
    )
