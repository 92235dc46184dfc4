"""Email goes out through a background job: SMTP when configured, the mail dir otherwise."""

from collections.abc import Callable
from email import message_from_bytes, policy

from sqlalchemy import text

from tests.conftest import free_port
from tests.identity.conftest import Inbox
from visage.config import Settings
from visage.core.db import Database
from visage.identity.email import EMAIL_QUEUE, mail_dir, send_email


def test_email_is_delivered_over_smtp_by_the_worker(
    database: Database, inbox: Inbox, run_jobs: Callable[..., None]
) -> None:
    with database.session() as session:
        send_email(
            session,
            to="smtp-reader@example.com",
            subject="Hello",
            body="Plain words",
            html="<p>Rich words</p>",
        )
    assert inbox.to("smtp-reader@example.com") == []  # queued, not sent inline
    run_jobs([EMAIL_QUEUE])
    [message] = inbox.to("smtp-reader@example.com")
    assert message["Subject"] == "Hello"
    assert message.get_body(("plain",)).get_content().strip() == "Plain words"
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich words</p>"


def test_rolled_back_transaction_sends_nothing(database: Database) -> None:
    with database.session() as session:
        send_email(session, to="never@example.com", subject="No", body="No")
        session.rollback()
    with database.session() as session:
        queued = session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'to' = 'never@example.com'")
        )
    assert queued == 0


def test_without_smtp_the_message_is_written_to_the_mail_dir(
    database: Database, settings: Settings, run_jobs: Callable[..., None]
) -> None:
    assert not settings.smtp_host
    with database.session() as session:
        send_email(session, to="file-reader@example.com", subject="Filed", body="On disk")
    run_jobs([EMAIL_QUEUE])
    written = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in mail_dir(settings).glob("*.eml")
    ]
    [message] = [m for m in written if m["To"] == "file-reader@example.com"]
    assert message["Subject"] == "Filed"


def test_failed_delivery_is_retried(
    database: Database, settings: Settings, monkeypatch, run_jobs: Callable[..., None]
) -> None:
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", free_port())  # nothing listens there
    with database.session() as session:
        send_email(session, to="retry@example.com", subject="Later", body="Later")
    run_jobs([EMAIL_QUEUE])
    with database.session() as session:
        status, attempts = session.execute(
            text(
                "SELECT status::text, attempts FROM procrastinate_jobs "
                "WHERE args->>'to' = 'retry@example.com'"
            )
        ).one()
    assert status == "todo"  # scheduled again with backoff, not failed for good
    assert attempts == 1
