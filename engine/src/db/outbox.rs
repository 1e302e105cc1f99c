//! Queries on `outbox`: mail waiting to be handed to the SMTP server.

use sqlx::FromRow;

use super::Exec;

/// A mail to send.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// The recipient's address.
    pub to: String,
    /// Its subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// Puts `mail` in the outbox, due now, in the transaction of the change that causes it.
pub async fn insert(db: impl Exec<'_>, mail: &NewMail, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// How many mails to `recipient` were written since `since` (sent or not).
pub async fn count_to(db: impl Exec<'_>, recipient: &str, since: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE recipient = $1 AND created_at > $2")
        .bind(recipient)
        .bind(since)
        .fetch_one(db)
        .await
}

/// A mail a worker has claimed.
#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    /// Its id.
    pub id: String,
    /// The recipient.
    pub recipient: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text_body: String,
    /// The HTML body.
    pub html_body: String,
    /// Failed deliveries so far.
    pub attempts: i64,
}

/// Claims the most overdue mail for `worker` until `now + lease` seconds: one that is neither sent
/// nor refused, is due, and is not claimed by a worker whose claim still holds. The conditions are
/// checked again on the row itself (PostgreSQL re-reads a row another transaction just changed), so
/// two workers never hold one mail.
pub async fn claim(db: impl Exec<'_>, worker: &str, now: i64, lease: i64) -> Result<Option<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $3
         WHERE id = (SELECT id FROM outbox
                     WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
                       AND (claimed_until IS NULL OR claimed_until < $2)
                     ORDER BY next_attempt_at, id LIMIT 1)
           AND sent_at IS NULL AND failed_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2)
         RETURNING id, recipient, subject, text_body, html_body, attempts",
    )
    .bind(worker)
    .bind(now)
    .bind(now + lease)
    .fetch_optional(db)
    .await
}

/// The SMTP server accepted the mail.
pub async fn mark_sent(db: impl Exec<'_>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $2, claimed_until = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// The delivery failed for now; it is due again at `next_attempt_at`.
pub async fn mark_retry(
    db: impl Exec<'_>,
    id: &str,
    attempts: i64,
    next_attempt_at: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, claimed_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db)
    .await
    .map(|_| ())
}

/// The SMTP server refused the mail for good.
pub async fn mark_failed(db: impl Exec<'_>, id: &str, now: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET failed_at = $2, last_error = $3, claimed_until = NULL WHERE id = $1")
        .bind(id)
        .bind(now)
        .bind(error)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes mail sent or refused before `before`; returns how many.
pub async fn prune(db: impl Exec<'_>, before: i64) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM outbox WHERE COALESCE(sent_at, failed_at) < $1").bind(before).execute(db).await?;
    Ok(done.rows_affected())
}
