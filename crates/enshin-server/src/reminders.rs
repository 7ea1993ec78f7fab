//! Visit reminders by e-mail (FUNC-2): the day before (24 h ahead) and about an hour before,
//! through the outgoing-message queue, without any A-class data (DATA-2). Each reminder is
//! claimed in the database before it is queued, so several instances never send one twice.

use std::time::Duration;

use enshin_core::letters::{ReminderKind, reminder};
use enshin_store::appointments::Reminder;
use enshin_store::messages::Channel;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;

/// How often due reminders are looked for.
pub const POLL: Duration = Duration::from_secs(60);
const HOUR_MS: i64 = 3_600_000;
/// Most reminders of one kind queued per round; the rest wait for the next one.
const BATCH: i64 = 500;

/// Queues every reminder due at `now`; how many were queued. A patient without an e-mail
/// address gets none (the visit is on their appointments page all the same).
pub async fn send_due(state: &AppState, now: i64) -> Result<usize, ApiError> {
    let link = format!("{}/appointments", state.patient_url);
    let mut queued = 0;
    // The hour reminder first: a visit booked at short notice gets one mail, not two.
    for (kind, window, letter) in [
        (Reminder::Hour, (0, HOUR_MS), ReminderKind::HourBefore),
        (
            Reminder::Day,
            (HOUR_MS, 24 * HOUR_MS),
            ReminderKind::DayBefore,
        ),
    ] {
        for (appointment, account) in state
            .store
            .claim_reminders(kind, window, now, BATCH)
            .await?
        {
            let Some(to) =
                crate::reset::proven_contact(state, &account, Channel::Email, false).await?
            else {
                continue;
            };
            let l = reminder(letter, &link);
            state.messages.email(&to, &l.subject, &l.body).await?;
            tracing::info!(%appointment, kind = ?letter, "visit reminder queued");
            queued += 1;
        }
    }
    Ok(queued)
}

/// Starts the reminder task; it ends when `stop` turns true.
pub fn spawn(state: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = send_due(&state, now_ms()).await {
                tracing::warn!(code = error.code, "visit reminders not sent this round");
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    })
}
