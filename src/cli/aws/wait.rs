//! `rotate-secret --wait`: follows the rotation that RotateSecret started, step by step, on
//! stderr: each step as it completes with the time since the start, a spinner while one runs
//! (when stderr is a terminal), and the cause if the rotation fails. Progress comes from
//! Tumbler's admin API (`ListRotations`); where that is not allowed (another endpoint, a
//! caller that is not an administrator), from DescribeSecret until AWSCURRENT moves.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::connection::{CallError, Connection};

const STEPS: [&str; 4] = ["createSecret", "setSecret", "testSecret", "finishSecret"];
const POLL: Duration = Duration::from_millis(200);
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// Following by DescribeSecret cannot see a failure: it gives up after this long.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(600);

struct Progress {
    start: Instant,
    spinner: bool,
    frame: usize,
    spinning: bool,
}

impl Progress {
    fn elapsed(&self) -> String {
        format!("{:.1}s", self.start.elapsed().as_secs_f64())
    }

    fn clear(&mut self) {
        if self.spinning {
            eprint!("\r\x1b[2K");
            self.spinning = false;
        }
    }

    fn line(&mut self, text: &str) {
        self.clear();
        eprintln!("{text}");
    }

    fn spin(&mut self, text: &str) {
        if !self.spinner {
            return;
        }
        self.frame = (self.frame + 1) % SPINNER.len();
        eprint!("\r\x1b[2K{} {text} {}", SPINNER[self.frame], self.elapsed());
        let _ = std::io::stderr().flush();
        self.spinning = true;
    }
}

/// Follows the rotation making `version_id`; `Ok` when it succeeded, `Err` with the cause.
pub async fn follow(conn: &Connection, secret_id: &str, version_id: &str) -> Result<(), String> {
    let mut progress = Progress {
        start: Instant::now(),
        spinner: std::io::stderr().is_terminal(),
        frame: 0,
        spinning: false,
    };
    let mut done = 0usize;
    let mut attempt = 1u64;
    loop {
        let history = match conn
            .call_target(
                "TumblerAdmin.ListRotations",
                &json!({ "SecretId": secret_id }),
            )
            .await
        {
            Ok(h) => h,
            Err(CallError::Service { .. }) => {
                progress.line("following by DescribeSecret (the admin API is not available)");
                return follow_by_describe(conn, secret_id, version_id, &mut progress).await;
            }
            Err(CallError::Transport(e)) => return Err(e),
        };
        let rotation = history["Rotations"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["VersionId"] == version_id))
            .cloned()
            .unwrap_or(Value::Null);
        let steps: &[&str] = if rotation["Kind"] == "test" {
            &STEPS[2..3]
        } else {
            &STEPS
        };
        let this_attempt = rotation["Attempt"].as_u64().unwrap_or(1);
        if this_attempt > attempt {
            let cause = rotation["Error"].as_str().unwrap_or("a step failed");
            progress.line(&format!(
                "attempt {attempt} failed ({cause}); attempt {this_attempt} starts over {}",
                progress.elapsed()
            ));
            attempt = this_attempt;
            done = 0;
        }
        let state = rotation["State"].as_str().unwrap_or("active");
        let step = rotation["Step"].as_str().unwrap_or(steps[0]);
        let position = steps.iter().position(|s| *s == step).unwrap_or(0);
        let completed = match state {
            "succeeded" => steps.len(),
            _ => position,
        };
        while done < completed {
            progress.line(&format!("✓ {:<13} {}", steps[done], progress.elapsed()));
            done += 1;
        }
        match state {
            "succeeded" => {
                progress.line(&format!("rotation succeeded in {}", progress.elapsed()));
                return Ok(());
            }
            "failed" => {
                let cause = rotation["Error"].as_str().unwrap_or("no cause recorded");
                progress.line(&format!("✗ {step:<13} {}", progress.elapsed()));
                return Err(format!("the rotation failed at {step}: {cause}"));
            }
            "cancelled" | "abandoned" => {
                progress.line(&format!("rotation {state} {}", progress.elapsed()));
                return Err(format!("the rotation was {state}"));
            }
            _ => progress.spin(steps.get(done).copied().unwrap_or(step)),
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn follow_by_describe(
    conn: &Connection,
    secret_id: &str,
    version_id: &str,
    progress: &mut Progress,
) -> Result<(), String> {
    while progress.start.elapsed() < DESCRIBE_TIMEOUT {
        let described = conn
            .call("DescribeSecret", &json!({ "SecretId": secret_id }))
            .await
            .map_err(|e| match e {
                CallError::Service { code, message } => format!("{code}: {message}"),
                CallError::Transport(t) => t,
            })?;
        let current = described["VersionIdsToStages"][version_id]
            .as_array()
            .is_some_and(|stages| stages.iter().any(|s| s == "AWSCURRENT"));
        if current {
            progress.line(&format!(
                "rotation succeeded in {} (AWSCURRENT is the new version)",
                progress.elapsed()
            ));
            return Ok(());
        }
        progress.spin("rotating");
        tokio::time::sleep(POLL).await;
    }
    Err(format!(
        "the new version was not AWSCURRENT after {} seconds",
        DESCRIBE_TIMEOUT.as_secs()
    ))
}
