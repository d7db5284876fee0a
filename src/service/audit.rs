//! The audit trail: one record per API call (allowed or denied) and per rotation event, in
//! CloudTrail's record shape, written as a JSON line to a file and as a row to the store.
//!
//! The guarantee (ARCHITECTURE.md, "Audit trail"): a record is never silently lost. Records go
//! to an in-memory spool; the writer appends them to the file (flushed to disk) and inserts
//! them into the store, and drops them from the spool only when both succeeded. A write that
//! fails is logged, counted and retried, with the records kept. Should the spool fill up
//! (the writes have been failing for a long time), calls are refused with an internal error
//! instead of being made without their record.
//!
//! Records never hold a secret value, a password or a secret access key: what goes in is
//! chosen by name (`api::audit` keeps request members except values, and response members
//! from a short list), never copied wholesale.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::Service;
use crate::auth::{Identity, Principal};
use crate::clock::Millis;
use crate::domain::name::name_of_arn;
use crate::domain::rotation::RotationEvent;
use crate::error::{Error, Result};
use crate::store::AuditRecord;

/// Records held while the writer is behind or failing, before calls wait for room.
const SPOOL_CAPACITY: usize = 100_000;
/// How long a call waits for room in a full spool before it is refused.
const SPOOL_WAIT: Duration = Duration::from_secs(5);
/// Records written in one file append and one store transaction, at most.
const BATCH: usize = 5_000;
/// How long the writer lets records gather before writing them: one file append, fsync and
/// store transaction for many calls, instead of a wakeup and a write per call.
const LINGER: Duration = Duration::from_millis(50);
/// How long the writer waits after a failed write before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

pub(crate) struct AuditLog {
    file: Option<PathBuf>,
    capacity: usize,
    wait: Duration,
    spool: Mutex<VecDeque<AuditRecord>>,
    /// Wakes the idle writer when a record arrives.
    wakeup: tokio::sync::Notify,
    /// Cuts the writer's lingering short when a whole batch is waiting.
    full: tokio::sync::Notify,
    /// Wakes calls waiting for room when the writer takes records.
    drained: tokio::sync::Notify,
    failed_writes: AtomicU64,
}

/// A call as the audit trail records it; built by `api` from the request and its outcome.
pub struct ApiCallRecord<'a> {
    pub event_source: &'static str,
    pub event_name: &'a str,
    pub region: &'a str,
    pub source_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<&'a str>,
    /// The caller, when the request was authenticated.
    pub principal: Option<&'a Principal>,
    /// The access key the request was signed with, when authentication failed after reading it.
    pub access_key_id: Option<&'a str>,
    pub request_parameters: Value,
    pub response_elements: Value,
    /// The error's code and message.
    pub error: Option<(&'a str, Option<&'a str>)>,
    pub request_id: &'a str,
    pub read_only: bool,
    /// The secret the call was about, for filtering: its ARN if known, else the SecretId sent.
    pub secret: Option<&'a str>,
}

impl AuditLog {
    pub fn new(file: Option<PathBuf>) -> AuditLog {
        AuditLog {
            file,
            capacity: SPOOL_CAPACITY,
            wait: SPOOL_WAIT,
            spool: Mutex::new(VecDeque::new()),
            wakeup: tokio::sync::Notify::new(),
            full: tokio::sync::Notify::new(),
            drained: tokio::sync::Notify::new(),
            failed_writes: AtomicU64::new(0),
        }
    }

    /// Spools a record, or gives it back when the spool is full.
    fn try_push(&self, record: AuditRecord) -> std::result::Result<(), Box<AuditRecord>> {
        let mut spool = self.spool.lock().expect("audit spool lock");
        if spool.len() >= self.capacity {
            return Err(Box::new(record));
        }
        spool.push_back(record);
        // The writer is woken by the first record (when idle) and by a full batch (when
        // lingering), not by every record.
        let len = spool.len();
        drop(spool);
        if len == 1 {
            self.wakeup.notify_one();
        } else if len == BATCH {
            self.full.notify_one();
        }
        Ok(())
    }

    /// Spools a record; while the spool is full the call waits for the writer (backpressure),
    /// and is refused only if no room comes within the wait.
    async fn push(&self, record: AuditRecord) -> Result<()> {
        // The common case: room at once, without registering as a waiter.
        let Err(back) = self.try_push(record) else {
            return Ok(());
        };
        let mut record = *back;
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            match self.try_push(record) {
                Ok(()) => return Ok(()),
                Err(back) => record = *back,
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return Err(Error::internal(
                    "the audit trail cannot be written and its spool is full; refusing calls until it can",
                ));
            }
        }
    }

    /// Takes up to `n` records from the front of the spool, making room for waiting calls.
    fn take(&self, n: usize) -> Vec<AuditRecord> {
        let mut spool = self.spool.lock().expect("audit spool lock");
        let n = n.min(spool.len());
        let taken: Vec<AuditRecord> = spool.drain(..n).collect();
        drop(spool);
        if !taken.is_empty() {
            self.drained.notify_waiters();
        }
        taken
    }

    /// Records waiting to be written.
    pub fn pending(&self) -> usize {
        self.spool.lock().expect("audit spool lock").len()
    }
}

/// CloudTrail's `userIdentity`, for the calls of users and of rotation functions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentityRecord<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    account_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invoked_by: Option<String>,
}

/// One API call's record, serialized straight from borrowed parts (it is made on every call).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiCallTrail<'a> {
    event_version: &'static str,
    user_identity: UserIdentityRecord<'a>,
    event_time: String,
    event_source: &'a str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<std::net::IpAddr>,
    user_agent: Option<&'a str>,
    request_parameters: &'a Value,
    response_elements: &'a Value,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
}

fn user_identity<'a>(
    account: &'a str,
    principal: Option<&'a Principal>,
    access_key_id: Option<&'a str>,
) -> UserIdentityRecord<'a> {
    let unknown = UserIdentityRecord {
        kind: "Unknown",
        principal_id: None,
        arn: None,
        account_id: account,
        access_key_id,
        user_name: None,
        session_context: None,
        invoked_by: None,
    };
    let Some(p) = principal else {
        return unknown;
    };
    match p.identity() {
        Identity::User(u) => UserIdentityRecord {
            kind: "IAMUser",
            principal_id: Some(u.user_id.clone()),
            arn: Some(p.arn()),
            access_key_id: Some(p.access_key_id()),
            user_name: Some(&u.user_name),
            ..unknown
        },
        Identity::Rotation(s) => UserIdentityRecord {
            kind: "AssumedRole",
            principal_id: Some(p.user_id()),
            arn: Some(p.arn()),
            access_key_id: Some(p.access_key_id()),
            session_context: Some(json!({
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROATUMBLERROTATION",
                    "arn": format!("arn:aws:iam::{account}:role/tumbler-rotation"),
                    "accountId": account,
                    "userName": "tumbler-rotation",
                },
            })),
            invoked_by: Some(format!("rotation function {}", s.function_name)),
            ..unknown
        },
    }
}

/// A random event id, from the thread's CSPRNG rather than a system call per record.
fn new_event_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

impl Service {
    /// Records an API call. Fails only when the spool stays full (see the module's guarantee).
    pub async fn audit_api_call(&self, call: ApiCallRecord<'_>) -> Result<()> {
        let now = self.now();
        let event_id = new_event_id();
        let account = self.account().0.as_str();
        let trail = ApiCallTrail {
            event_version: "1.08",
            user_identity: user_identity(account, call.principal, call.access_key_id),
            event_time: now.to_iso8601_seconds(),
            event_source: call.event_source,
            event_name: call.event_name,
            aws_region: call.region,
            source_ip_address: call.source_ip,
            user_agent: call.user_agent,
            request_parameters: &call.request_parameters,
            response_elements: &call.response_elements,
            request_id: call.request_id,
            event_id: &event_id,
            read_only: call.read_only,
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: account,
            event_category: "Management",
            error_code: call.error.map(|(c, _)| c),
            error_message: call.error.and_then(|(_, m)| m),
        };
        let record = serde_json::to_string(&trail).map_err(Error::internal)?;
        let secret_arn = call.secret.filter(|s| s.starts_with("arn:"));
        self.audit
            .push(AuditRecord {
                event_id,
                event_time: now,
                event_name: call.event_name.to_owned(),
                user_name: call.principal.map(|p| p.user_name().to_owned()),
                secret_arn: secret_arn.map(str::to_owned),
                secret_name: match secret_arn {
                    Some(arn) => name_of_arn(arn).map(str::to_owned),
                    None => call.secret.map(str::to_owned),
                },
                error_code: call.error.map(|(c, _)| c.to_owned()),
                record,
            })
            .await
    }

    /// Records rotation events (RotationStarted, RotationSucceeded, ...) as CloudTrail's
    /// service events. The rotation itself is already saved, so a full spool is logged rather
    /// than failing it.
    pub(crate) fn audit_rotation_events(&self, events: &[RotationEvent]) {
        for e in events {
            let event_id = new_event_id();
            let region = e.secret_arn.split(':').nth(3).unwrap_or_default();
            let mut record = json!({
                "eventVersion": "1.08",
                "userIdentity": {"accountId": self.account().0, "invokedBy": "secretsmanager.amazonaws.com"},
                "eventTime": e.at.to_iso8601_seconds(),
                "eventSource": "secretsmanager.amazonaws.com",
                "eventName": e.kind.as_str(),
                "awsRegion": region,
                "sourceIPAddress": "secretsmanager.amazonaws.com",
                "userAgent": "secretsmanager.amazonaws.com",
                "requestParameters": Value::Null,
                "responseElements": Value::Null,
                "eventID": event_id,
                "readOnly": false,
                "eventType": "AwsServiceEvent",
                "managementEvent": true,
                "recipientAccountId": self.account().0,
                "serviceEventDetails": {
                    "secretId": e.secret_arn,
                    "clientRequestToken": e.token,
                    "step": e.step.map(|s| s.as_str()),
                    "attempt": e.attempt,
                },
                "eventCategory": "Management",
            });
            if let Some(error) = &e.error {
                record["errorCode"] = json!(e.kind.as_str());
                record["errorMessage"] = json!(error);
            }
            let pushed = self.audit.try_push(AuditRecord {
                event_id,
                event_time: e.at,
                event_name: e.kind.as_str().to_owned(),
                user_name: None,
                secret_arn: Some(e.secret_arn.clone()),
                secret_name: name_of_arn(&e.secret_arn).map(str::to_owned),
                error_code: e.error.as_ref().map(|_| e.kind.as_str().to_owned()),
                record: record.to_string(),
            });
            if pushed.is_err() {
                tracing::error!(event = e.kind.as_str(), secret_arn = %e.secret_arn, "the audit spool is full: rotation event not audited");
            }
        }
    }

    /// Writes spooled records until `stop` says so, then what is left.
    pub async fn run_audit_writer(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        // The batch being written, kept across failed attempts; `in_file` once the file has it.
        let mut batch: Vec<AuditRecord> = Vec::new();
        let mut in_file = false;
        loop {
            let stopping = *stop.borrow();
            if batch.is_empty() {
                batch = self.audit.take(BATCH);
                in_file = false;
            }
            if batch.is_empty() {
                if stopping {
                    return;
                }
                tokio::select! {
                    _ = self.audit.wakeup.notified() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            match self.write_audit_batch(&batch, &mut in_file).await {
                Ok(()) => {
                    batch.clear();
                    // Let the next batch gather (unless it fills first or the server stops):
                    // under load, a few large writes a second instead of one per few calls.
                    if !stopping && self.audit.pending() < BATCH {
                        tokio::select! {
                            _ = tokio::time::sleep(LINGER) => {}
                            _ = self.audit.full.notified() => {}
                            _ = stop.changed() => {}
                        }
                    }
                }
                Err(e) => {
                    self.audit.failed_writes.fetch_add(1, Ordering::Relaxed);
                    let pending = batch.len() + self.audit.pending();
                    tracing::error!(cause = %e, pending, "audit records could not be written; kept and retried");
                    if stopping {
                        // A stop while writes fail: what is left is lost, and said loudly.
                        tracing::error!(lost = pending, "stopping with audit records unwritten");
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(RETRY_AFTER) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
    }

    /// Writes a batch to the file (unless it is there already) and then to the store.
    async fn write_audit_batch(
        &self,
        batch: &[AuditRecord],
        in_file: &mut bool,
    ) -> std::result::Result<(), String> {
        if let Some(path) = &self.audit.file
            && !*in_file
        {
            let mut lines = String::with_capacity(batch.iter().map(|r| r.record.len() + 1).sum());
            for r in batch {
                lines.push_str(&r.record);
                lines.push('\n');
            }
            let path = path.clone();
            tokio::task::spawn_blocking(move || append_synced(&path, lines.as_bytes()))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("audit file: {e}"))?;
        }
        *in_file = true;
        self.store
            .insert_audit_records(batch)
            .await
            .map_err(|e| format!("audit table: {e}"))
    }

    /// Audit records, oldest first, for `tumbler admin audit`.
    /// Removes stored records older than `retention` (the file keeps them); how many.
    pub async fn purge_audit_records(&self, retention: Duration) -> Result<u64> {
        let before = Millis(self.now().0 - retention.as_millis() as i64);
        Ok(self.store.delete_audit_records_before(before).await?)
    }

    /// A secret given by ARN also finds the calls that named it by its name alone (denied ones,
    /// whose ARN the record could not learn).
    pub async fn audit_records(
        &self,
        query: &crate::store::AuditQuery,
    ) -> Result<Vec<(i64, AuditRecord)>> {
        let mut query = query.clone();
        query.secret_name_of_arn = query
            .secret
            .as_deref()
            .and_then(name_of_arn)
            .map(str::to_owned);
        Ok(self.store.audit_records(&query).await?)
    }
}

/// Appends to the file (opened anew each time, so a rotated or replaced file is followed) and
/// waits until the data is on disk. The file is private to its owner.
fn append_synced(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> AuditRecord {
        AuditRecord {
            event_id: format!("e{n}"),
            event_time: Millis(0),
            event_name: "GetSecretValue".into(),
            user_name: None,
            secret_arn: None,
            secret_name: None,
            error_code: None,
            record: "{}".into(),
        }
    }

    #[tokio::test]
    async fn a_full_spool_makes_calls_wait_then_refuses_them_without_dropping_a_record() {
        let log = std::sync::Arc::new(AuditLog {
            capacity: 2,
            wait: Duration::from_millis(200),
            ..AuditLog::new(None)
        });
        log.push(record(1)).await.unwrap();
        log.push(record(2)).await.unwrap();
        // Full: the call waits, and gets in when the writer takes records.
        let waiting = tokio::spawn({
            let log = log.clone();
            async move { log.push(record(3)).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the call waits for room");
        assert_eq!(log.take(1).len(), 1);
        waiting.await.unwrap().unwrap();
        // Nobody takes: refused after the wait, and nothing spooled was dropped.
        let refused = log.push(record(4)).await.unwrap_err();
        assert!(matches!(refused, Error::Internal(_)));
        assert_eq!(log.pending(), 2);
    }
}
