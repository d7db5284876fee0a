//! MySQL and MariaDB: login, `SELECT NOW()`, `SET PASSWORD` for one's own password, and for
//! alternating users `CREATE USER`/`ALTER USER` with the grants copied, as AWS's templates do.
//! Account statements take no parameters, so the password is quoted here, by the session's
//! own quoting rules; the servers mask it in their logs.

use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, MySqlConnection, Row};
use zeroize::Zeroizing;

use super::database::{DbError, Login, sqlx_transport_error};
use crate::rotation::definition::TlsMode;

fn classify(e: sqlx::Error) -> DbError {
    if let Some(db) = e.as_database_error() {
        let message = db.message().to_owned();
        let number = db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number);
        return match number {
            // ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR (at login)
            Some(1045) => DbError::LoginRefused(message),
            // ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR,
            // ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_CANT_CREATE_USER_WITH_GRANT,
            // ER_PASSWORD_NOT_ALLOWED / ER_PASSWORD_ANONYMOUS_USER
            Some(1044 | 1142 | 1227 | 1410 | 1131 | 1133) => DbError::MissingPrivilege(message),
            _ => DbError::Failed(message),
        };
    }
    sqlx_transport_error(e)
}

pub async fn connect(login: &Login<'_>) -> Result<MySqlConnection, DbError> {
    let c = login.credentials;
    let mut options = MySqlConnectOptions::new()
        .host(&c.host)
        .port(c.port)
        .username(&c.username)
        .password(&c.password)
        .ssl_mode(match login.tls {
            TlsMode::Disable => MySqlSslMode::Disabled,
            TlsMode::Prefer => MySqlSslMode::Preferred,
            TlsMode::Require => MySqlSslMode::VerifyIdentity,
        })
        // Account statements carry the password: never logged.
        .disable_statement_logging();
    if let Some(db) = &c.dbname {
        options = options.database(db);
    }
    if let Some(ca) = login.ca_file {
        options = options.ssl_ca(ca);
    }
    options.connect().await.map_err(classify)
}

pub async fn probe(c: &mut MySqlConnection) -> Result<(), DbError> {
    sqlx::query("SELECT NOW()")
        .execute(c)
        .await
        .map(drop)
        .map_err(classify)
}

/// A string literal for this session: with NO_BACKSLASH_ESCAPES only quotes are doubled,
/// otherwise backslashes are escaped too.
async fn literal(c: &mut MySqlConnection, text: &str) -> Result<Zeroizing<String>, DbError> {
    let no_backslash_escapes: i64 =
        sqlx::query_scalar("SELECT @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%'")
            .fetch_one(&mut *c)
            .await
            .map_err(classify)?;
    let mut out = Zeroizing::new(String::with_capacity(text.len() + 2));
    out.push('\'');
    for ch in text.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\\' if no_backslash_escapes == 0 => out.push_str("\\\\"),
            ch => out.push(ch),
        }
    }
    out.push('\'');
    Ok(out)
}

/// `'user'@'host'`. User names were checked for quotes and backslashes when the secret was
/// read; hosts come from the server's own `mysql.user`.
fn account(user: &str, host: &str) -> String {
    format!("'{}'@'{}'", user, host.replace('\'', "''"))
}

async fn execute(c: &mut MySqlConnection, statement: &str) -> Result<(), DbError> {
    // The text protocol: MariaDB does not prepare account statements.
    sqlx::raw_sql(AssertSqlSafe(statement))
        .execute(c)
        .await
        .map(drop)
        .map_err(classify)
}

/// The logged-in user's own password. `SET PASSWORD` needs no privilege for one's own account
/// (MariaDB's `ALTER USER` would need CREATE USER); MariaDB and MySQL before 8 take the
/// password through `PASSWORD()`, MySQL 8 and later directly.
pub async fn set_own_password(c: &mut MySqlConnection, password: &str) -> Result<(), DbError> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut *c)
        .await
        .map_err(classify)?;
    let literal = literal(c, password).await?;
    let statement = if takes_password_function(&version) {
        Zeroizing::new(format!("SET PASSWORD = PASSWORD({})", literal.as_str()))
    } else {
        Zeroizing::new(format!("SET PASSWORD = {}", literal.as_str()))
    };
    execute(c, &statement).await
}

fn takes_password_function(version: &str) -> bool {
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    version.contains("MariaDB") || major < 8
}

/// As the master: creates `username` if it has no account (on the hosts of `grants_from`'s
/// accounts, or `%`), gives it `grants_from`'s grants, and sets its password on every
/// account it has.
pub async fn set_user_password(
    c: &mut MySqlConnection,
    username: &str,
    password: &str,
    grants_from: Option<&str>,
) -> Result<(), DbError> {
    let hosts_of = async |c: &mut MySqlConnection, user: &str| -> Result<Vec<String>, DbError> {
        sqlx::query("SELECT CAST(Host AS CHAR) FROM mysql.user WHERE User = ? ORDER BY Host")
            .bind(user)
            .fetch_all(&mut *c)
            .await
            .map_err(classify)?
            .iter()
            .map(|r| r.try_get::<String, _>(0).map_err(classify))
            .collect()
    };
    let literal = literal(c, password).await?;
    let mut hosts = hosts_of(c, username).await?;
    if hosts.is_empty() {
        hosts = match grants_from {
            Some(from) => hosts_of(c, from).await?,
            None => Vec::new(),
        };
        if hosts.is_empty() {
            hosts.push("%".into());
        }
        for host in &hosts {
            let statement = Zeroizing::new(format!(
                "CREATE USER {} IDENTIFIED BY {}",
                account(username, host),
                literal.as_str()
            ));
            execute(c, &statement).await?;
        }
    }
    if let Some(from) = grants_from {
        for host in &hosts {
            copy_grants(c, &account(from, host), &account(username, host)).await?;
        }
    }
    for host in &hosts {
        let statement = Zeroizing::new(format!(
            "ALTER USER {} IDENTIFIED BY {}",
            account(username, host),
            literal.as_str()
        ));
        execute(c, &statement).await?;
    }
    Ok(())
}

/// Grants `from` holds, granted again to `to` (GRANT is idempotent, so a rerun is harmless).
async fn copy_grants(c: &mut MySqlConnection, from: &str, to: &str) -> Result<(), DbError> {
    let rows = match sqlx::raw_sql(AssertSqlSafe(format!("SHOW GRANTS FOR {from}")))
        .fetch_all(&mut *c)
        .await
    {
        Ok(rows) => rows,
        // No account of that user on this host: nothing to copy.
        Err(e)
            if e.as_database_error()
                .and_then(|d| d.try_downcast_ref::<MySqlDatabaseError>())
                .is_some_and(|d| d.number() == 1141) =>
        {
            return Ok(());
        }
        Err(e) => return Err(classify(e)),
    };
    for row in rows {
        let grant: String = row.try_get(0).map_err(classify)?;
        if let Some(statement) = regrant(&grant, to) {
            execute(c, &statement).await?;
        }
    }
    Ok(())
}

/// `GRANT <privileges> ON <object> TO <from>[ IDENTIFIED BY PASSWORD ...][ WITH ...]` as
/// the same grant to `to`. The bare USAGE grant every account has, and proxy grants, are
/// not copied.
fn regrant(grant: &str, to: &str) -> Option<String> {
    let (what, _) = grant.rsplit_once(" TO ")?;
    if what.starts_with("GRANT USAGE ON *.*") || what.starts_with("GRANT PROXY") {
        return None;
    }
    Some(format!("{what} TO {to}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_copied_to_the_clone_without_the_password_hash() {
        assert_eq!(
            regrant(
                "GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`",
                "'app_clone'@'%'"
            )
            .as_deref(),
            Some("GRANT SELECT, INSERT ON `shop`.* TO 'app_clone'@'%'")
        );
        assert_eq!(
            regrant(
                "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*ABC'",
                "'app_clone'@'%'"
            ),
            None
        );
    }

    #[test]
    fn mariadb_and_old_mysql_take_the_password_function() {
        assert!(takes_password_function("10.11.19-MariaDB-0+deb12u1"));
        assert!(takes_password_function("5.7.44"));
        assert!(!takes_password_function("8.0.36"));
        assert!(!takes_password_function("9.1.0"));
    }
}
