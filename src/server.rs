//! Putting it together: open the store, load the master key, make the admin key, then serve
//! on a listener the caller bound until a shutdown future resolves.

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::api::{self, ApiConfig, App};
use crate::clock::{Clock, SystemClock};
use crate::config::{ADMIN_CREDENTIALS_FILE, Config};
use crate::crypto::MasterKey;
use crate::rotation::driver::{Driver, RotationSettings};
use crate::rotation::runner::Runners;
use crate::service::{AdminKey, Service};
use crate::telemetry::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// A server ready to serve: the store is open and migrated, keys are in place.
pub struct Tumbler {
    pub app: Arc<App>,
    /// The admin key made on this start, if one was (its secret is also in the credentials file).
    pub admin_key: Option<AdminKey>,
    purge_interval: std::time::Duration,
    audit_retention: std::time::Duration,
    rotation: RotationSettings,
}

impl Tumbler {
    pub async fn open(config: &Config) -> Result<Tumbler, StartError> {
        Tumbler::open_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn open_with_clock(
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Tumbler, StartError> {
        let data_dir = config.data_dir.path();
        create_private_dir(data_dir)?;
        let key_path = config.master_key_path();
        let (master_key, created) =
            MasterKey::load_or_create(&key_path, true).map_err(|e| StartError(e.to_string()))?;
        if created {
            tracing::info!(path = %key_path.display(), "created master key");
        }
        let url = config.database_url();
        let store = crate::store::open(&url)
            .await
            .map_err(|e| StartError(format!("opening database {}: {e}", redact_url(&url))))?;
        let service = Service::new(
            store,
            master_key,
            clock,
            config.account_id.clone(),
            Some(config.audit_log_path()),
        );
        service
            .check_master_key()
            .await
            .map_err(|e| StartError(e.to_string()))?;
        service
            .ensure_admin_user()
            .await
            .map_err(|e| StartError(format!("creating the admin user: {e}")))?;
        for f in &config.functions {
            service
                .put_function(f)
                .await
                .map_err(|e| StartError(format!("registering function {}: {e}", f.name)))?;
            tracing::info!(function = %f.name, kind = %f.kind, "registered rotation function from the config file");
        }

        let credentials_path = data_dir.join(ADMIN_CREDENTIALS_FILE);
        let admin_key = match &config.admin_key {
            Some((id, secret)) => {
                let key = AdminKey {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                };
                service
                    .ensure_admin_key(&key)
                    .await
                    .map_err(|e| StartError(e.to_string()))?;
                tracing::info!(access_key_id = %id, "admin access key from TUMBLER_ADMIN_ACCESS_KEY_ID");
                None
            }
            None if !config.dev && !credentials_path.exists() => {
                let key = AdminKey::generate();
                service
                    .ensure_admin_key(&key)
                    .await
                    .map_err(|e| StartError(e.to_string()))?;
                write_credentials(&credentials_path, &key)?;
                tracing::info!(path = %credentials_path.display(), access_key_id = %key.access_key_id, "created admin access key");
                Some(key)
            }
            None => None,
        };
        if config.dev {
            tracing::warn!(
                "DEVELOPMENT MODE: any well-formed credentials are accepted as the admin and POST /_tumbler/reset wipes every secret. Never use --dev in production."
            );
        }
        // Say where the admin's credentials are, whichever way they were given.
        let admin_credentials = if config.admin_key.is_some() {
            "TUMBLER_ADMIN_ACCESS_KEY_ID and TUMBLER_ADMIN_SECRET_ACCESS_KEY".to_owned()
        } else if config.dev {
            "any well-formed credentials (--dev)".to_owned()
        } else {
            credentials_path.display().to_string()
        };
        tracing::info!(
            data_dir = %data_dir.display(),
            database = %redact_url(&url),
            backend = service.store().backend_name(),
            master_key = %key_path.display(),
            admin_credentials = %admin_credentials,
            "tumbler is ready"
        );
        let app = Arc::new(App {
            service: Arc::new(service),
            config: ApiConfig {
                dev: config.dev,
                max_clock_skew_secs: config.max_clock_skew_secs,
                ..Default::default()
            },
            metrics: Arc::new(Metrics::new()),
            signing_keys: Default::default(),
        });
        Ok(Tumbler {
            app,
            admin_key,
            purge_interval: config.purge_interval,
            audit_retention: config.audit_retention,
            rotation: config.rotation.clone(),
        })
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let purger = tokio::spawn(purge_loop(
            self.app.clone(),
            self.purge_interval,
            self.audit_retention,
            stop_rx.clone(),
        ));
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "listening");
        let driver = Arc::new(Driver {
            service: self.app.service.clone(),
            runners: Runners::new(self.app.service.clone(), endpoint_of(addr)),
            settings: self.rotation.clone(),
            metrics: self.app.metrics.clone(),
            node_id: format!("{}-{}", hostname(), uuid::Uuid::new_v4()),
        });
        let driver_task = tokio::spawn(driver.run(stop_rx.clone()));
        let scheduler = tokio::spawn(crate::rotation::scheduler::run(
            self.app.service.clone(),
            self.rotation.clone(),
            stop_rx,
        ));
        // The audit writer stops last, after the requests and rotations it records.
        let (audit_stop_tx, audit_stop_rx) = tokio::sync::watch::channel(false);
        let audit_service = self.app.service.clone();
        let audit_writer =
            tokio::spawn(async move { audit_service.run_audit_writer(audit_stop_rx).await });
        let result = axum::serve(
            listener,
            api::router(self.app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_tx.send(true);
        let _ = purger.await;
        let _ = scheduler.await;
        let _ = driver_task.await;
        let _ = audit_stop_tx.send(true);
        let _ = audit_writer.await;
        tracing::info!("stopped");
        result
    }
}

/// How a function on this machine reaches this server: a wildcard listen address is reached
/// on loopback.
fn endpoint_of(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// This machine's name, for the owner of rotation leases in logs and the database.
fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "tumbler".into())
}

/// Purges secrets whose recovery window has ended, and stored audit records older than
/// `audit_retention`, every `interval`, until told to stop.
async fn purge_loop(
    app: Arc<App>,
    interval: std::time::Duration,
    audit_retention: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
        match app.service.purge_deleted_secrets().await {
            Ok(n) => app.metrics.record_purged(n),
            Err(e) => tracing::error!(error = %e, "purging deleted secrets failed; will retry"),
        }
        match app.service.purge_audit_records(audit_retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(records = n, "removed audit records past their retention"),
            Err(e) => tracing::error!(error = %e, "removing old audit records failed; will retry"),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StartError(format!("data directory {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Writes the admin key as an AWS shared-credentials file, profile `tumbler`, mode 0600.
fn write_credentials(path: &Path, key: &AdminKey) -> Result<(), StartError> {
    let err = |e: std::io::Error| StartError(format!("{}: {e}", path.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(err)?;
    let text = Zeroizing::new(format!(
        "# Tumbler's admin access key, made on first start. Use it with --profile tumbler.\n[tumbler]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        key.access_key_id,
        key.secret_access_key.as_str()
    ));
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

/// A database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_hidden_in_logs() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
