//! Redis (and Valkey) ACL users: login with AUTH, PING, and `ACL SETUSER <user> resetpass
//! #<sha256>`, so the password itself is never sent. The user needs the `acl|setuser`
//! permission to change its own password.

use redis::aio::MultiplexedConnection;
use redis::{
    Client, ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisConnectionInfo, RedisError,
    TlsCertificates,
};
use sha2::{Digest, Sha256};

use super::database::{DbError, Login};
use crate::rotation::definition::TlsMode;

pub struct RedisSession {
    connection: MultiplexedConnection,
}

fn classify(e: RedisError) -> DbError {
    let message = e.to_string();
    if e.kind() == ErrorKind::AuthenticationFailed || e.code() == Some("WRONGPASS") {
        DbError::LoginRefused(message)
    } else if e.code() == Some("NOPERM") {
        DbError::MissingPrivilege(message)
    } else if e.is_io_error() || e.is_connection_refusal() || e.is_timeout() {
        DbError::Unreachable(message)
    } else {
        DbError::Failed(message)
    }
}

pub async fn connect(login: &Login<'_>) -> Result<RedisSession, DbError> {
    match login.tls {
        TlsMode::Disable => open(login, false).await,
        TlsMode::Require => open(login, true).await,
        // As the SQL drivers prefer: TLS if the server speaks it, else plaintext.
        TlsMode::Prefer => match open(login, true).await {
            Err(DbError::Unreachable(_)) => open(login, false).await,
            other => other,
        },
    }
}

async fn open(login: &Login<'_>, tls: bool) -> Result<RedisSession, DbError> {
    let c = login.credentials;
    let addr = if tls {
        ConnectionAddr::TcpTls {
            host: c.host.clone(),
            port: c.port,
            // Only "prefer" skips verification, as the SQL drivers' preferred TLS does.
            insecure: login.tls == TlsMode::Prefer,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(c.host.clone(), c.port)
    };
    let info = addr
        .into_connection_info()
        .map_err(|e| DbError::Failed(e.to_string()))?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_username(&c.username)
                .set_password(c.password.as_str())
                .set_skip_set_lib_name(),
        );
    let client = match (tls, login.ca_file) {
        (true, Some(ca)) => {
            let root_cert = std::fs::read(ca).map_err(|e| {
                DbError::Unreachable(format!("reading tls_ca_file {}: {e}", ca.display()))
            })?;
            Client::build_with_tls(
                info,
                TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                },
            )
        }
        _ => Client::open(info),
    }
    .map_err(|e| DbError::Failed(e.to_string()))?;
    let connection = client
        .get_multiplexed_async_connection()
        .await
        .map_err(classify)?;
    Ok(RedisSession { connection })
}

impl RedisSession {
    pub async fn probe(&mut self) -> Result<(), DbError> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.connection)
            .await
            .map(drop)
            .map_err(classify)
    }

    /// The user's only password becomes `password`, sent as its SHA-256 (`#<hex>`), which
    /// is how Redis stores it. Saved to the ACL file when the server uses one.
    pub async fn set_password(&mut self, username: &str, password: &str) -> Result<(), DbError> {
        let digest: String = Sha256::digest(password.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(username)
            .arg("resetpass")
            .arg(format!("#{digest}"))
            .query_async::<()>(&mut self.connection)
            .await
            .map_err(classify)?;
        match redis::cmd("ACL")
            .arg("SAVE")
            .query_async::<()>(&mut self.connection)
            .await
        {
            Ok(()) => Ok(()),
            // Users defined in redis.conf or by ACL SETUSER alone live in memory: nothing to save.
            Err(e) if e.to_string().contains("not configured to use an ACL file") => Ok(()),
            Err(e) if e.code() == Some("NOPERM") => {
                tracing::warn!(
                    user = username,
                    "the password was changed, but the user may not run ACL SAVE: if the Redis \
                     server loads users from an ACL file, a restart brings the old password back"
                );
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
    }
}
