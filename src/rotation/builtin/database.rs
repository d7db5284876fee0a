//! setSecret and testSecret for the database builtins, as AWS's templates do them, over a
//! [`Connection`] to whichever engine the function rotates. Every step can run again after a
//! crash: setSecret first tries the pending password and stops if it already works.

use std::path::Path;
use std::time::Duration;

use super::credentials::DatabaseCredentials;
use super::{StepContext, fail, mysql, postgres, redis};
use crate::domain::{AWSCURRENT, AWSPREVIOUS};
use crate::rotation::definition::{DatabaseBuiltin, Engine, TlsMode, UserStrategy};
use crate::rotation::runner::InvokeError;

/// A database that does not answer within this long counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The suffix AWS's alternating-users templates give the second user.
const CLONE_SUFFIX: &str = "_clone";

/// Why talking to the database failed, in the server's words (never with a password in them:
/// see [`DbError::redact`]).
#[derive(Debug)]
pub enum DbError {
    /// No connection: name lookup, refused, timed out, or TLS (handshake or certificate).
    Unreachable(String),
    /// The server refused this user name and password.
    LoginRefused(String),
    /// Logged in, but the user lacks a privilege the step needs.
    MissingPrivilege(String),
    /// Anything else the server refused.
    Failed(String),
}

impl DbError {
    pub fn into_message(self) -> String {
        match self {
            DbError::Unreachable(m)
            | DbError::LoginRefused(m)
            | DbError::MissingPrivilege(m)
            | DbError::Failed(m) => m,
        }
    }

    /// Removes `password` from the server's message: some servers quote the statement they
    /// could not run, and the statement may carry it.
    pub fn redact(self, password: &str) -> DbError {
        let scrub = |m: String| {
            if password.is_empty() {
                m
            } else {
                m.replace(password, "[password]")
            }
        };
        match self {
            DbError::Unreachable(m) => DbError::Unreachable(scrub(m)),
            DbError::LoginRefused(m) => DbError::LoginRefused(scrub(m)),
            DbError::MissingPrivilege(m) => DbError::MissingPrivilege(scrub(m)),
            DbError::Failed(m) => DbError::Failed(scrub(m)),
        }
    }
}

/// Where and how to connect, as one login.
pub struct Login<'a> {
    pub engine: Engine,
    pub credentials: &'a DatabaseCredentials,
    pub tls: TlsMode,
    pub ca_file: Option<&'a Path>,
}

/// An open session with the database, logged in as one user.
pub enum Connection {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
    Redis(redis::RedisSession),
}

impl Connection {
    /// Logs in, within [`CONNECT_TIMEOUT`].
    pub async fn open(login: &Login<'_>) -> Result<Connection, DbError> {
        let opening = async {
            match login.engine {
                Engine::Postgres => postgres::connect(login).await.map(Connection::Postgres),
                Engine::Mysql => mysql::connect(login).await.map(Connection::Mysql),
                Engine::Redis => redis::connect(login).await.map(Connection::Redis),
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, opening).await {
            Ok(result) => result,
            Err(_) => Err(DbError::Unreachable(format!(
                "no answer within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// A harmless query, as the templates' testSecret runs (`SELECT NOW()`, or PING).
    pub async fn probe(&mut self) -> Result<(), DbError> {
        match self {
            Connection::Postgres(c) => postgres::probe(c).await,
            Connection::Mysql(c) => mysql::probe(c).await,
            Connection::Redis(c) => c.probe().await,
        }
    }

    /// The logged-in user changes its own password.
    pub async fn set_own_password(
        &mut self,
        username: &str,
        password: &str,
    ) -> Result<(), DbError> {
        match self {
            Connection::Postgres(c) => postgres::set_password(c, username, password, None).await,
            Connection::Mysql(c) => mysql::set_own_password(c, password).await,
            Connection::Redis(c) => c.set_password(username, password).await,
        }
        .map_err(|e| e.redact(password))
    }

    /// A privileged user sets `username`'s password, creating the user the first time with
    /// the grants of `grants_from`, which it is given again every time (a rerun after a crash
    /// between creating the user and granting completes the grants).
    pub async fn set_user_password(
        &mut self,
        username: &str,
        password: &str,
        grants_from: Option<&str>,
    ) -> Result<(), DbError> {
        match self {
            Connection::Postgres(c) => {
                postgres::set_password(c, username, password, Some(grants_from)).await
            }
            Connection::Mysql(c) => {
                mysql::set_user_password(c, username, password, grants_from).await
            }
            Connection::Redis(_) => Err(DbError::Failed(
                "Redis users are rotated by the single-user builtin only".into(),
            )),
        }
        .map_err(|e| e.redact(password))
    }

    pub async fn close(self) {
        match self {
            Connection::Postgres(c) => {
                let _ = sqlx::Connection::close(c).await;
            }
            Connection::Mysql(c) => {
                let _ = sqlx::Connection::close(c).await;
            }
            Connection::Redis(_) => {}
        }
    }
}

/// An sqlx error that is not the server's answer: the connection itself failed.
pub fn sqlx_transport_error(e: sqlx::Error) -> DbError {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => {
            DbError::Unreachable(e.to_string())
        }
        other => DbError::Failed(other.to_string()),
    }
}

pub fn no_master_arn() -> InvokeError {
    InvokeError(
        "the AWSCURRENT value has no \"masterarn\" field; alternating users need the ARN of a \
         secret whose user may change other users' passwords"
            .into(),
    )
}

/// The user an alternating rotation switches to.
pub fn other_user(username: &str) -> String {
    match username.strip_suffix(CLONE_SUFFIX) {
        Some(base) if !base.is_empty() => base.to_owned(),
        _ => format!("{username}{CLONE_SUFFIX}"),
    }
}

fn login<'a>(db: &'a DatabaseBuiltin, credentials: &'a DatabaseCredentials) -> Login<'a> {
    Login {
        engine: db.engine,
        credentials,
        tls: credentials.tls(db.tls),
        ca_file: db.tls_ca_file.as_deref(),
    }
}

/// A step's failure, with the engine, the address and the user it concerns.
fn describe(
    error: DbError,
    engine: Engine,
    credentials: &DatabaseCredentials,
    who: &str,
) -> InvokeError {
    let engine = engine.as_str();
    let address = credentials.address();
    let user = &credentials.username;
    InvokeError(match error {
        DbError::Unreachable(m) => format!("cannot reach {engine} at {address}: {m}"),
        DbError::LoginRefused(m) => {
            format!("{engine} at {address} refused the login of {who} \"{user}\": {m}")
        }
        DbError::MissingPrivilege(m) => format!(
            "{who} \"{user}\" lacks a privilege on {engine} at {address} that this step needs: {m}"
        ),
        DbError::Failed(m) => format!("{engine} at {address}, as {who} \"{user}\": {m}"),
    })
}

async fn credentials_of(
    ctx: &StepContext<'_>,
    engine: Engine,
    stage: &str,
) -> Result<DatabaseCredentials, InvokeError> {
    let value = ctx.value(None, stage).await.map_err(fail)?;
    DatabaseCredentials::parse(&value, engine, stage)
}

async fn pending_credentials(
    ctx: &StepContext<'_>,
    engine: Engine,
) -> Result<DatabaseCredentials, InvokeError> {
    DatabaseCredentials::parse(&ctx.pending_value().await?, engine, "AWSPENDING")
}

/// setSecret: the database gets the pending password.
pub async fn set_secret(ctx: &StepContext<'_>, db: &DatabaseBuiltin) -> Result<(), InvokeError> {
    let pending = pending_credentials(ctx, db.engine).await?;
    let current = credentials_of(ctx, db.engine, AWSCURRENT).await?;
    if pending.host != current.host || pending.port != current.port {
        return Err(InvokeError(format!(
            "the AWSPENDING value names {} but AWSCURRENT names {}; a rotation changes only \
             the user and password",
            pending.address(),
            current.address()
        )));
    }
    // Done by an earlier run (it crashed or failed after this step).
    match Connection::open(&login(db, &pending)).await {
        Ok(c) => {
            c.close().await;
            return Ok(());
        }
        Err(e @ DbError::Unreachable(_)) => {
            return Err(describe(e, db.engine, &pending, "user"));
        }
        Err(_) => {}
    }
    match db.users {
        UserStrategy::Single => set_own_password(ctx, db, &pending, &current).await,
        UserStrategy::Alternating => set_by_master(ctx, db, &pending, &current).await,
    }
}

/// Single user: log in with the current password, else the previous one (a rotation that
/// failed after setSecret left the database there), and change it.
async fn set_own_password(
    ctx: &StepContext<'_>,
    db: &DatabaseBuiltin,
    pending: &DatabaseCredentials,
    current: &DatabaseCredentials,
) -> Result<(), InvokeError> {
    if pending.username != current.username {
        return Err(InvokeError(format!(
            "the AWSPENDING value's user \"{}\" is not the AWSCURRENT user \"{}\"; a single-user \
             rotation changes only the password",
            pending.username, current.username
        )));
    }
    let previous = match ctx.value(None, AWSPREVIOUS).await {
        Ok(v) => DatabaseCredentials::parse(&v, db.engine, AWSPREVIOUS)
            .ok()
            .filter(|p| p.username == current.username),
        // No previous version yet.
        Err(_) => None,
    };
    let mut refusal = None;
    for credentials in std::iter::once(current).chain(previous.as_ref()) {
        match Connection::open(&login(db, credentials)).await {
            Ok(mut c) => {
                let changed = c
                    .set_own_password(&pending.username, &pending.password)
                    .await
                    .map_err(|e| describe(e, db.engine, current, "user"));
                c.close().await;
                return changed;
            }
            Err(e @ DbError::Unreachable(_)) => {
                return Err(describe(e, db.engine, current, "user"));
            }
            // The current password's refusal is the one worth reporting.
            Err(e) => {
                refusal.get_or_insert(e);
            }
        }
    }
    let cause = refusal.map(DbError::into_message).unwrap_or_default();
    Err(InvokeError(format!(
        "{} at {} refused the login of user \"{}\" with the AWSPENDING, AWSCURRENT and \
         AWSPREVIOUS passwords: {cause}",
        db.engine.as_str(),
        current.address(),
        current.username
    )))
}

/// Alternating users: the master user sets the password of the user the pending value names,
/// creating it (with the current user's grants) the first time.
async fn set_by_master(
    ctx: &StepContext<'_>,
    db: &DatabaseBuiltin,
    pending: &DatabaseCredentials,
    current: &DatabaseCredentials,
) -> Result<(), InvokeError> {
    let master_arn = current.masterarn.as_deref().ok_or_else(no_master_arn)?;
    let master_value = ctx
        .master_value(master_arn)
        .await
        .map_err(|e| InvokeError(format!("cannot read the master secret {master_arn}: {e}")))?;
    let master = DatabaseCredentials::parse(&master_value, db.engine, "master secret's")?;
    // As AWS's templates check: the master user must be a user of the same server.
    if master.host != current.host || master.port != current.port {
        return Err(InvokeError(format!(
            "the master secret names {} but this secret names {}; the master user must be on \
             the same server",
            master.address(),
            current.address()
        )));
    }
    let mut c = Connection::open(&login(db, &master))
        .await
        .map_err(|e| describe(e, db.engine, &master, "master user"))?;
    // The clone gets the grants of the user it stands in for; going back, the original
    // user has them already.
    let grants_from = (pending.username == other_user(&current.username)
        && pending.username.ends_with(CLONE_SUFFIX))
    .then_some(current.username.as_str());
    let set = c
        .set_user_password(&pending.username, &pending.password, grants_from)
        .await
        .map_err(|e| describe(e, db.engine, &master, "master user"));
    c.close().await;
    set
}

/// testSecret: the pending credentials log in and run a harmless query.
pub async fn test_secret(ctx: &StepContext<'_>, db: &DatabaseBuiltin) -> Result<(), InvokeError> {
    let pending = pending_credentials(ctx, db.engine).await?;
    let mut c = Connection::open(&login(db, &pending))
        .await
        .map_err(|e| describe(e, db.engine, &pending, "user"))?;
    let probed = c
        .probe()
        .await
        .map_err(|e| describe(e, db.engine, &pending, "user"));
    c.close().await;
    probed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_users_switch_between_a_user_and_its_clone() {
        assert_eq!(other_user("app"), "app_clone");
        assert_eq!(other_user("app_clone"), "app");
        assert_eq!(other_user("_clone"), "_clone_clone");
    }

    #[test]
    fn a_servers_message_never_carries_the_password() {
        let e = DbError::Failed("syntax error near 'pa55word')".into()).redact("pa55word");
        assert_eq!(e.into_message(), "syntax error near '[password]')");
    }
}
