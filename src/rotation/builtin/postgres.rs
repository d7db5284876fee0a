//! PostgreSQL: login, `SELECT NOW()`, and passwords set as SCRAM-SHA-256 verifiers, so the
//! password itself never reaches the server (nor its statement log).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, PgConnection};

use super::database::{DbError, Login, sqlx_transport_error};
use crate::rotation::definition::TlsMode;

/// PostgreSQL's own default for verifiers it computes.
const SCRAM_ITERATIONS: u32 = 4096;
/// `server_version_num` of the first release that accepts SCRAM verifiers (10).
const SCRAM_SINCE: i32 = 100_000;

fn classify(e: sqlx::Error) -> DbError {
    if let Some(db) = e.as_database_error() {
        let message = db.message().to_owned();
        return match db.code().as_deref() {
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => DbError::LoginRefused(message),
            // insufficient_privilege
            Some("42501") => DbError::MissingPrivilege(message),
            _ => DbError::Failed(message),
        };
    }
    sqlx_transport_error(e)
}

pub async fn connect(login: &Login<'_>) -> Result<PgConnection, DbError> {
    let c = login.credentials;
    let mut options = PgConnectOptions::new()
        .host(&c.host)
        .port(c.port)
        .username(&c.username)
        .password(&c.password)
        // AWS's templates connect to `postgres` when the secret names no database.
        .database(c.dbname.as_deref().unwrap_or("postgres"))
        .application_name("tumbler-rotation")
        .ssl_mode(match login.tls {
            TlsMode::Disable => PgSslMode::Disable,
            TlsMode::Prefer => PgSslMode::Prefer,
            TlsMode::Require => PgSslMode::VerifyFull,
        })
        // Statements carry password verifiers: never logged.
        .disable_statement_logging();
    if let Some(ca) = login.ca_file {
        options = options.ssl_root_cert(ca);
    }
    options.connect().await.map_err(classify)
}

pub async fn probe(c: &mut PgConnection) -> Result<(), DbError> {
    sqlx::query("SELECT NOW()")
        .execute(c)
        .await
        .map(drop)
        .map_err(classify)
}

/// Sets `username`'s password. With `create` (alternating users, as the master), a missing
/// user is created with LOGIN, and given membership in the role `create` names, so it holds
/// the same privileges.
pub async fn set_password(
    c: &mut PgConnection,
    username: &str,
    password: &str,
    create: Option<Option<&str>>,
) -> Result<(), DbError> {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut *c)
        .await
        .map_err(classify)?;
    // SASLprep leaves printable ASCII as it is, so the verifier computed here is the one the
    // server would compute. Anything else is left to the server to hash.
    let secret = if version >= SCRAM_SINCE && password.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        zeroize::Zeroizing::new(scram_verifier(password, &salt, SCRAM_ITERATIONS))
    } else {
        zeroize::Zeroizing::new(password.to_owned())
    };
    let exists = match create {
        None => true,
        Some(_) => sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_roles WHERE rolname = $1")
            .bind(username)
            .fetch_optional(&mut *c)
            .await
            .map_err(classify)?
            .is_some(),
    };
    // Utility statements take no parameters: the server quotes the name and the verifier
    // itself with format(), so no quoting rules are guessed here.
    let template = if exists {
        "ALTER ROLE %I WITH PASSWORD %L"
    } else {
        "CREATE ROLE %I WITH LOGIN PASSWORD %L"
    };
    let statement: String = sqlx::query_scalar("SELECT format($1, $2::text, $3::text)")
        .bind(template)
        .bind(username)
        .bind(secret.as_str())
        .fetch_one(&mut *c)
        .await
        .map_err(classify)?;
    let statement = zeroize::Zeroizing::new(statement);
    sqlx::raw_sql(AssertSqlSafe(statement.as_str()))
        .execute(&mut *c)
        .await
        .map_err(classify)?;
    if let Some(Some(member_of)) = create {
        let grant: String =
            sqlx::query_scalar("SELECT format('GRANT %I TO %I', $1::text, $2::text)")
                .bind(member_of)
                .bind(username)
                .fetch_one(&mut *c)
                .await
                .map_err(classify)?;
        sqlx::raw_sql(AssertSqlSafe(grant))
            .execute(&mut *c)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// A SCRAM-SHA-256 verifier in PostgreSQL's form (RFC 5802, RFC 7677):
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`.
pub fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let salted = pbkdf2_sha256(password.as_bytes(), salt, iterations);
    let client_key = hmac_sha256(salted.as_slice(), b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(salted.as_slice(), b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 for one 32-byte block, which is all SCRAM-SHA-256 needs.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> zeroize::Zeroizing<[u8; 32]> {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &first);
    let mut out = zeroize::Zeroizing::new(u);
    for _ in 1..iterations {
        u = hmac_sha256(password, &u);
        for (o, b) in out.iter_mut().zip(u) {
            *o ^= b;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scram_verifier_is_the_one_postgres_computes() {
        // Computed by Python's hashlib/hmac (the same algorithm PostgreSQL's
        // pg_be_scram_build_secret runs) for password "pencil", salt 16 bytes 0..15.
        let salt: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            scram_verifier("pencil", &salt, 4096),
            include_str!("testdata/scram_pencil.txt").trim()
        );
    }

    #[test]
    fn pbkdf2_matches_rfc_7914s_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), first 32 bytes.
        let hex: String = pbkdf2_sha256(b"passwd", b"salt", 1)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }
}
