//! The scheduler: every few seconds, the secrets whose next rotation time has come are read
//! through the `rotation_due_at` index (so its cost follows the number of due secrets, not
//! the number stored) and their rotations started. Several nodes may run it at once: starting
//! a rotation is a revision-checked save plus an insert the one-active-rotation index guards,
//! so each due rotation starts exactly once.

use std::sync::Arc;

use tokio::sync::watch;

use super::driver::RotationSettings;
use crate::service::Service;

/// Starts due rotations until `stop` turns true.
pub async fn run(
    service: Arc<Service>,
    settings: RotationSettings,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(settings.scheduler_interval) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = start_due(&service, settings.scheduler_batch).await {
            tracing::error!(error = %e, "starting due rotations failed; will retry");
        }
    }
}

/// One pass: starts the rotations due now, at most `batch` of them. Returns how many started.
pub async fn start_due(service: &Service, batch: i64) -> crate::error::Result<usize> {
    let due = service
        .store()
        .secrets_due_for_rotation(service.now(), batch)
        .await?;
    let mut started = 0;
    for secret_id in due {
        match service.start_due_rotation(&secret_id).await {
            Ok(Some(_)) => started += 1,
            Ok(None) => {}
            Err(e) => tracing::warn!(secret_id, error = %e, "could not start a due rotation"),
        }
    }
    Ok(started)
}
