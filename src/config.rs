//! Configuration in two types: [`FileConfig`], the strict shape of the TOML file, and
//! [`Config`], validated and typed. Precedence, rising: file, environment, flags (clap reads
//! `TUMBLER_*` variables as flag defaults, so a flag given wins over its variable).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::domain::AccountId;
use crate::domain::rotation::RetryPolicy;
use crate::rotation::definition::FunctionDefinition;
use crate::rotation::driver::RotationSettings;
use crate::telemetry::LogFormat;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4584";
pub const DEFAULT_DATA_DIR: &str = "./tumbler-data";
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
pub const DEFAULT_MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;
pub const DEFAULT_PURGE_INTERVAL_SECS: u64 = 60;
/// CloudTrail's event history keeps 90 days.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u64 = 90;
pub const DATABASE_FILE: &str = "tumbler.db";
pub const MASTER_KEY_FILE: &str = "master.key";
pub const ADMIN_CREDENTIALS_FILE: &str = "admin-credentials";
pub const AUDIT_LOG_FILE: &str = "audit.log";

/// The commented example of every key, printed by `tumbler config example`.
pub const EXAMPLE: &str = include_str!("../tumbler.example.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub account_id: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub audit_log_file: Option<PathBuf>,
    pub audit_retention_days: Option<u64>,
    pub dev: Option<bool>,
    pub log_format: Option<String>,
    pub max_clock_skew_seconds: Option<i64>,
    pub purge_interval_seconds: Option<u64>,
    pub rotation: Option<RotationFileConfig>,
    /// Rotation functions, written to the database at every start (replacing stored
    /// functions of the same name).
    #[serde(default)]
    pub functions: Vec<FunctionDefinition>,
}

/// `[rotation]`: how the driver and scheduler work.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationFileConfig {
    pub workers: Option<usize>,
    pub max_attempts: Option<u32>,
    pub retry_delay_ms: Option<u64>,
    pub max_retry_delay_ms: Option<u64>,
    pub lease_seconds: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    pub scheduler_interval_ms: Option<u64>,
    pub scheduler_batch: Option<i64>,
}

impl RotationFileConfig {
    fn settings(&self) -> Result<RotationSettings, ConfigError> {
        let d = RotationSettings::default();
        let positive = |name: &str, v: u64| {
            if v == 0 {
                Err(ConfigError(format!("rotation.{name} must be at least 1")))
            } else {
                Ok(v)
            }
        };
        let ms = |name: &str, v: Option<u64>, default: Duration| -> Result<Duration, ConfigError> {
            Ok(match v {
                Some(v) => Duration::from_millis(positive(name, v)?),
                None => default,
            })
        };
        let retry = RetryPolicy {
            max_attempts: positive(
                "max_attempts",
                self.max_attempts.unwrap_or(d.retry.max_attempts).into(),
            )? as u32,
            first_delay_ms: self
                .retry_delay_ms
                .map(|v| v as i64)
                .unwrap_or(d.retry.first_delay_ms),
            max_delay_ms: self
                .max_retry_delay_ms
                .map(|v| v as i64)
                .unwrap_or(d.retry.max_delay_ms),
        };
        Ok(RotationSettings {
            workers: positive("workers", self.workers.unwrap_or(d.workers) as u64)? as usize,
            retry,
            lease: match self.lease_seconds {
                Some(v) => Duration::from_secs(positive("lease_seconds", v)?),
                None => d.lease,
            },
            poll_interval: ms("poll_interval_ms", self.poll_interval_ms, d.poll_interval)?,
            scheduler_interval: ms(
                "scheduler_interval_ms",
                self.scheduler_interval_ms,
                d.scheduler_interval,
            )?,
            scheduler_batch: positive(
                "scheduler_batch",
                self.scheduler_batch.unwrap_or(d.scheduler_batch).max(0) as u64,
            )? as i64,
        })
    }
}

/// What flags and the environment said (`None` where they said nothing).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub account_id: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub audit_log_file: Option<PathBuf>,
    pub dev: bool,
    pub log_format: Option<String>,
    pub max_clock_skew_seconds: Option<i64>,
    pub purge_interval_seconds: Option<u64>,
    pub admin_access_key_id: Option<String>,
    pub admin_secret_access_key: Option<Zeroizing<String>>,
}

/// Where the data lives: a directory the user named, or a temporary one (`--dev`).
#[derive(Debug)]
pub enum DataDir {
    Path(PathBuf),
    Temporary(tempfile::TempDir),
}

impl DataDir {
    pub fn path(&self) -> &Path {
        match self {
            DataDir::Path(p) => p,
            DataDir::Temporary(t) => t.path(),
        }
    }
}

pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: DataDir,
    /// `None`: the SQLite file in the data directory.
    pub database_url: Option<String>,
    pub account_id: AccountId,
    pub master_key_file: Option<PathBuf>,
    pub audit_log_file: Option<PathBuf>,
    pub dev: bool,
    pub log_format: LogFormat,
    pub max_clock_skew_secs: i64,
    pub purge_interval: Duration,
    /// Audit records older than this are removed from the database (not from the file).
    pub audit_retention: Duration,
    /// The admin key from the environment, if set.
    pub admin_key: Option<(String, Zeroizing<String>)>,
    pub rotation: RotationSettings,
    /// Functions declared in the file, each already validated.
    pub functions: Vec<FunctionDefinition>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir.path())
            .field("account_id", &self.account_id)
            .field("dev", &self.dev)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn load(o: Overrides) -> Result<Config, ConfigError> {
        let file = match &o.config_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
            }
            None => FileConfig::default(),
        };
        Config::merge(file, o)
    }

    pub fn merge(file: FileConfig, o: Overrides) -> Result<Config, ConfigError> {
        let listen_text = o
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| ConfigError(format!("listen: '{listen_text}' is not an address:port")))?;
        let dev = o.dev || file.dev.unwrap_or(false);
        let data_dir = match o.data_dir.or(file.data_dir) {
            Some(p) => DataDir::Path(p),
            None if dev => DataDir::Temporary(
                tempfile::Builder::new()
                    .prefix("tumbler-dev-")
                    .tempdir()
                    .map_err(|e| ConfigError(format!("temporary data directory: {e}")))?,
            ),
            None => DataDir::Path(PathBuf::from(DEFAULT_DATA_DIR)),
        };
        let account = o
            .account_id
            .or(file.account_id)
            .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_owned());
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError(format!(
                "account_id: '{account}' is not 12 digits"
            )));
        }
        let log_format = match o.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "log_format: '{other}' is neither text nor json"
                )));
            }
        };
        let skew = o
            .max_clock_skew_seconds
            .or(file.max_clock_skew_seconds)
            .unwrap_or(DEFAULT_MAX_CLOCK_SKEW_SECS);
        if !(1..=7 * 24 * 3600).contains(&skew) {
            return Err(ConfigError(format!(
                "max_clock_skew_seconds: {skew} is out of range"
            )));
        }
        let purge = o
            .purge_interval_seconds
            .or(file.purge_interval_seconds)
            .unwrap_or(DEFAULT_PURGE_INTERVAL_SECS);
        if purge == 0 {
            return Err(ConfigError(
                "purge_interval_seconds must be at least 1".into(),
            ));
        }
        let admin_key = match (o.admin_access_key_id, o.admin_secret_access_key) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
            (None, None) => None,
            _ => {
                return Err(ConfigError(
                    "TUMBLER_ADMIN_ACCESS_KEY_ID and TUMBLER_ADMIN_SECRET_ACCESS_KEY must be set together".into(),
                ));
            }
        };
        let rotation = file.rotation.clone().unwrap_or_default().settings()?;
        let mut names = std::collections::BTreeSet::new();
        for f in &file.functions {
            f.validate(None)
                .map_err(|e| ConfigError(format!("functions: {e}")))?;
            if !names.insert(f.name.clone()) {
                return Err(ConfigError(format!(
                    "functions: {:?} is declared twice",
                    f.name
                )));
            }
        }
        Ok(Config {
            listen,
            data_dir,
            database_url: o.database_url.or(file.database_url),
            account_id: AccountId(account),
            master_key_file: o.master_key_file.or(file.master_key_file),
            audit_log_file: o.audit_log_file.or(file.audit_log_file),
            dev,
            log_format,
            max_clock_skew_secs: skew,
            purge_interval: Duration::from_secs(purge),
            audit_retention: Duration::from_secs(
                file.audit_retention_days
                    .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS)
                    .max(1)
                    * 24
                    * 3600,
            ),
            admin_key,
            rotation,
            functions: file.functions,
        })
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.path().join(DATABASE_FILE).display()
            )
        })
    }

    pub fn audit_log_path(&self) -> PathBuf {
        self.audit_log_file
            .clone()
            .unwrap_or_else(|| self.data_dir.path().join(AUDIT_LOG_FILE))
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.path().join(MASTER_KEY_FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_names_every_key() {
        let f: FileConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(f.listen.as_deref(), Some(DEFAULT_LISTEN));
        for key in [
            "listen",
            "data_dir",
            "database_url",
            "account_id",
            "master_key_file",
            "audit_log_file",
            "audit_retention_days",
            "dev",
            "log_format",
            "max_clock_skew_seconds",
            "purge_interval_seconds",
            "workers",
            "max_attempts",
            "retry_delay_ms",
            "max_retry_delay_ms",
            "lease_seconds",
            "poll_interval_ms",
            "scheduler_interval_ms",
            "scheduler_batch",
        ] {
            assert!(
                EXAMPLE.contains(&format!("{key} =")),
                "{key} missing from the example"
            );
        }
        // The example shows the defaults, and its function validates.
        let c = Config::merge(f, Overrides::default()).unwrap();
        assert_eq!(c.rotation, RotationSettings::default());
        assert_eq!(c.functions.len(), 1);
    }

    #[test]
    fn a_bad_function_in_the_file_is_refused_with_its_name() {
        let f: FileConfig =
            toml::from_str("[[functions]]\nname = \"f\"\nkind = \"ftp\"\n").unwrap();
        let e = Config::merge(f, Overrides::default()).err().unwrap();
        assert!(e.0.contains("\"f\"") && e.0.contains("kind"), "{}", e.0);
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn flags_and_env_override_the_file() {
        let file = FileConfig {
            listen: Some("127.0.0.1:1".into()),
            account_id: Some("111111111111".into()),
            ..Default::default()
        };
        let o = Overrides {
            listen: Some("127.0.0.1:2".into()),
            ..Default::default()
        };
        let c = Config::merge(file, o).unwrap();
        assert_eq!(c.listen.port(), 2);
        assert_eq!(c.account_id.0, "111111111111");
    }

    #[test]
    fn defaults_without_anything() {
        let c = Config::merge(FileConfig::default(), Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir.path(), Path::new(DEFAULT_DATA_DIR));
        assert_eq!(c.account_id.0, DEFAULT_ACCOUNT_ID);
        assert!(c.database_url().starts_with("sqlite://./tumbler-data/"));
    }

    #[test]
    fn dev_without_data_dir_uses_a_temporary_directory() {
        let c = Config::merge(
            FileConfig::default(),
            Overrides {
                dev: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(matches!(c.data_dir, DataDir::Temporary(_)));
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::merge(
            FileConfig {
                account_id: Some("12".into()),
                ..Default::default()
            },
            Overrides::default(),
        )
        .unwrap_err();
        assert!(e.0.contains("account_id"));
        let e = Config::merge(
            FileConfig::default(),
            Overrides {
                admin_access_key_id: Some("A".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.0.contains("together"));
    }
}
