//! The JSON a database secret holds, by AWS's conventions for database credentials:
//! `engine`, `host`, `port`, `username`, `password`, `dbname`, and for alternating users
//! `masterarn`. `ssl` (true or false, or the strings) asks for or refuses TLS, as AWS's
//! templates read it. Other fields are kept as they are when a new version is written.

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::domain::SecretValue;
use crate::rotation::definition::{Engine, TlsMode};
use crate::rotation::runner::InvokeError;

/// One version's credentials. `Debug` leaves the password out.
#[derive(Clone)]
pub struct DatabaseCredentials {
    pub engine: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Zeroizing<String>,
    pub dbname: Option<String>,
    pub masterarn: Option<String>,
    pub ssl: Option<bool>,
}

impl std::fmt::Debug for DatabaseCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseCredentials")
            .field("engine", &self.engine)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("dbname", &self.dbname)
            .finish_non_exhaustive()
    }
}

/// The JSON object of a secret value, with a clear error for anything else. `which` names the
/// version in the error ("AWSCURRENT", "the master secret").
pub fn json_object(value: &SecretValue, which: &str) -> Result<Map<String, Value>, InvokeError> {
    let SecretValue::String(text) = value else {
        return Err(InvokeError(format!(
            "the {which} value is SecretBinary; database credentials are a JSON SecretString"
        )));
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(fields),
        // serde's message may quote the text it choked on, so it is not passed on.
        _ => Err(InvokeError(format!(
            "the {which} value is not a JSON object; database credentials are a JSON object \
             with engine, host, username and password"
        ))),
    }
}

fn text_field(fields: &Map<String, Value>, key: &str, which: &str) -> Result<String, InvokeError> {
    match fields.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(InvokeError(format!(
            "the {which} value's \"{key}\" field is empty"
        ))),
        Some(_) => Err(InvokeError(format!(
            "the {which} value's \"{key}\" field is not a string"
        ))),
        None => Err(InvokeError(format!(
            "the {which} value has no \"{key}\" field"
        ))),
    }
}

fn optional_text(
    fields: &Map<String, Value>,
    key: &str,
    which: &str,
) -> Result<Option<String>, InvokeError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(_) => text_field(fields, key, which).map(Some),
    }
}

impl DatabaseCredentials {
    /// Reads and checks credentials for `engine`. `which` names the version in errors.
    pub fn parse(
        value: &SecretValue,
        engine: Engine,
        which: &str,
    ) -> Result<DatabaseCredentials, InvokeError> {
        let fields = json_object(value, which)?;
        let engine_name = text_field(&fields, "engine", which)?;
        if !engine.accepts(&engine_name) {
            return Err(InvokeError(format!(
                "the {which} value's engine is {engine_name:?}; this function rotates {} \
                 credentials",
                engine.as_str()
            )));
        }
        let port = match fields.get("port") {
            None | Some(Value::Null) => engine.default_port(),
            // AWS's own secrets write the port as a number; hand-written ones often quote it.
            Some(Value::Number(n)) => {
                n.as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or_else(|| {
                        InvokeError(format!(
                            "the {which} value's \"port\" field is not a port number"
                        ))
                    })?
            }
            Some(Value::String(s)) => s.parse().map_err(|_| {
                InvokeError(format!(
                    "the {which} value's \"port\" field is not a port number"
                ))
            })?,
            Some(_) => {
                return Err(InvokeError(format!(
                    "the {which} value's \"port\" field is not a port number"
                )));
            }
        };
        let ssl = match fields.get("ssl") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => {
                return Err(InvokeError(format!(
                    "the {which} value's \"ssl\" field must be true or false"
                )));
            }
        };
        let username = text_field(&fields, "username", which)?;
        if username
            .chars()
            .any(|c| c.is_control() || c == '\'' || c == '\\' || c == '`')
        {
            // Database user names are quoted into SQL; these would need escaping rules that
            // differ between servers and modes, so they are refused instead.
            return Err(InvokeError(format!(
                "the {which} value's username contains a quote, backslash or control character"
            )));
        }
        Ok(DatabaseCredentials {
            engine: engine_name,
            host: text_field(&fields, "host", which)?,
            port,
            username,
            password: Zeroizing::new(text_field(&fields, "password", which)?),
            dbname: optional_text(&fields, "dbname", which)?,
            masterarn: optional_text(&fields, "masterarn", which)?,
            ssl,
        })
    }

    /// TLS as asked for by the secret or by the function: either one asking for it requires
    /// it; otherwise either one refusing it disables it; otherwise it is preferred.
    pub fn tls(&self, function: Option<TlsMode>) -> TlsMode {
        match (self.ssl, function) {
            (Some(true), _) | (_, Some(TlsMode::Require)) => TlsMode::Require,
            (Some(false), _) | (_, Some(TlsMode::Disable)) => TlsMode::Disable,
            _ => TlsMode::Prefer,
        }
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> SecretValue {
        SecretValue::String(Zeroizing::new(text.to_owned()))
    }

    #[test]
    fn aws_style_credentials_parse_with_a_quoted_or_numeric_port() {
        let c = DatabaseCredentials::parse(
            &value(r#"{"engine":"postgres","host":"db","port":"6543","username":"app","password":"pw","dbname":"shop"}"#),
            Engine::Postgres,
            "AWSCURRENT",
        )
        .unwrap();
        assert_eq!((c.host.as_str(), c.port), ("db", 6543));
        assert_eq!(c.dbname.as_deref(), Some("shop"));
        let c = DatabaseCredentials::parse(
            &value(r#"{"engine":"mariadb","host":"db","username":"app","password":"pw"}"#),
            Engine::Mysql,
            "AWSCURRENT",
        )
        .unwrap();
        assert_eq!(c.port, 3306);
    }

    #[test]
    fn a_missing_field_is_named_and_no_value_is_repeated() {
        let e = DatabaseCredentials::parse(
            &value(r#"{"engine":"postgres","username":"app","password":"hunter2"}"#),
            Engine::Postgres,
            "AWSCURRENT",
        )
        .unwrap_err();
        assert_eq!(e.0, "the AWSCURRENT value has no \"host\" field");
        let e = DatabaseCredentials::parse(&value("hunter2"), Engine::Postgres, "AWSCURRENT")
            .unwrap_err();
        assert!(!e.0.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_secret_for_another_engine_is_refused() {
        let e = DatabaseCredentials::parse(
            &value(r#"{"engine":"mysql","host":"db","username":"app","password":"pw"}"#),
            Engine::Postgres,
            "AWSCURRENT",
        )
        .unwrap_err();
        assert!(e.0.contains("rotates postgres"), "{e}");
    }

    #[test]
    fn tls_is_required_when_the_secret_or_the_function_asks() {
        let mut c = DatabaseCredentials::parse(
            &value(r#"{"engine":"redis","host":"db","username":"app","password":"pw"}"#),
            Engine::Redis,
            "AWSCURRENT",
        )
        .unwrap();
        assert_eq!(c.tls(None), TlsMode::Prefer);
        assert_eq!(c.tls(Some(TlsMode::Require)), TlsMode::Require);
        assert_eq!(c.tls(Some(TlsMode::Disable)), TlsMode::Disable);
        c.ssl = Some(true);
        assert_eq!(c.tls(Some(TlsMode::Disable)), TlsMode::Require);
        c.ssl = Some(false);
        assert_eq!(c.tls(None), TlsMode::Disable);
        assert_eq!(c.tls(Some(TlsMode::Require)), TlsMode::Require);
    }

    #[test]
    fn a_user_name_that_would_need_escaping_in_sql_is_refused() {
        let e = DatabaseCredentials::parse(
            &value(r#"{"engine":"mysql","host":"db","username":"a'b","password":"pw"}"#),
            Engine::Mysql,
            "AWSCURRENT",
        )
        .unwrap_err();
        assert!(e.0.contains("quote"), "{e}");
    }
}
