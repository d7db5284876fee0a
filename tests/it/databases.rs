//! Real database servers for the database rotation builtins' tests: a private PostgreSQL with
//! SCRAM authentication (the shared one trusts everyone, so a login there proves nothing),
//! and the shared MariaDB and Redis. Where a server is missing, a test says it skipped; in CI
//! (`CI` set) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::{AssertSqlSafe, Connection};

/// `None` after saying why, or a panic in CI.
fn unavailable<T>(test: &str, what: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("{what}: required in CI");
    }
    eprintln!("SKIPPED {test}: {what}");
    None
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The directory holding initdb and pg_ctl.
fn postgres_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A PostgreSQL cluster of a test's own: `initdb --auth=scram-sha-256` in a temporary
/// directory, on a free port, stopped when dropped. initdb refuses to run as root, so as root
/// it runs as the `postgres` user.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    pub superuser_password: String,
    /// With `tls`: the certificate of the test CA that signed the server's (for 127.0.0.1).
    pub certificate: Option<PathBuf>,
}

impl PrivatePostgres {
    /// `tls`: the server has a certificate and accepts only TLS connections (`hostssl`).
    pub fn start(test: &str, tls: bool) -> Option<PrivatePostgres> {
        let Some(bin) = postgres_bin_dir() else {
            return unavailable(test, "no initdb/pg_ctl found (install postgresql)");
        };
        let dir = tempfile::Builder::new()
            .prefix("tumbler-pg-")
            .tempdir()
            .unwrap();
        let run_as_postgres = is_root();
        if run_as_postgres {
            chown_to_postgres(dir.path());
        }
        let superuser_password = format!("Super-{}", uuid::Uuid::new_v4().simple());
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, &superuser_password).unwrap();
        let data = dir.path().join("data");
        let port = free_port();
        let mut pg = PrivatePostgres {
            dir,
            bin,
            port,
            superuser_password,
            certificate: None,
        };
        if run_as_postgres {
            chown_to_postgres(&pwfile);
        }
        pg.run(&[
            "initdb",
            "-D",
            data.to_str().unwrap(),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            &format!("--pwfile={}", pwfile.display()),
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        let mut conf = String::from("fsync = off\nlisten_addresses = '127.0.0.1'\n");
        if tls {
            let cert = pg.dir.path().join("server.crt");
            let key = pg.dir.path().join("server.key");
            let ca = make_certificate(pg.dir.path());
            if run_as_postgres {
                chown_to_postgres(&cert);
                chown_to_postgres(&key);
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                cert.display(),
                key.display()
            ));
            // TLS or nothing: a plaintext login is refused by pg_hba.conf.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
            )
            .unwrap();
            pg.certificate = Some(ca);
        }
        let mut existing = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        existing.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), existing).unwrap();
        pg.run(&[
            "pg_ctl",
            "-D",
            data.to_str().unwrap(),
            "-o",
            &format!("-p {port} -k {}", pg.dir.path().display()),
            "-l",
            pg.dir.path().join("log").to_str().unwrap(),
            "-w",
            "start",
        ]);
        Some(pg)
    }

    fn command(&self, args: &[&str]) -> Command {
        let program = self.bin.join(args[0]);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(program)
                .args(&args[1..]);
            c
        } else {
            let mut c = Command::new(program);
            c.args(&args[1..]);
            c
        }
    }

    fn run(&self, args: &[&str]) {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} failed: {}{}",
            args[0],
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A URL that logs in as `user` with `password` (over TLS, verified, on a TLS server).
    pub fn url(&self, user: &str, password: &str) -> String {
        let ssl = match &self.certificate {
            Some(cert) => format!("?sslmode=verify-full&sslrootcert={}", cert.display()),
            None => "?sslmode=disable".into(),
        };
        format!(
            "postgres://{user}:{}@127.0.0.1:{}/postgres{ssl}",
            percent_encode(password),
            self.port
        )
    }

    /// Connects as the superuser.
    pub async fn superuser(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url("postgres", &self.superuser_password))
            .await
            .unwrap()
    }

    /// Runs statements as the superuser.
    pub async fn execute(&self, statements: &str) {
        let mut c = self.superuser().await;
        sqlx::raw_sql(AssertSqlSafe(statements.to_owned()))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }

    /// Whether `user` logs in with `password`, and the server's reason if not.
    pub async fn login(&self, user: &str, password: &str) -> Result<sqlx::PgConnection, String> {
        sqlx::PgConnection::connect(&self.url(user, password))
            .await
            .map_err(|e| e.to_string())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command(&[
                "pg_ctl",
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

/// A test CA, and a server certificate it signs for 127.0.0.1 (`server.crt`, `server.key`
/// in `dir`). Returns the CA's certificate.
pub fn make_certificate(dir: &Path) -> PathBuf {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=tumbler-test-ca",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    dir.join("ca.crt")
}

fn chown_to_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "chown postgres {}", path.display());
}

/// Percent-encodes everything but unreserved characters, for a password in a URL.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub const MARIADB_ADDRESS: &str = "127.0.0.1:3306";

/// The shared MariaDB as root, or `None` (skipped) where it is not running.
pub async fn mariadb_root(test: &str) -> Option<sqlx::MySqlConnection> {
    let url = std::env::var("TUMBLER_TEST_MYSQL_URL")
        .unwrap_or_else(|_| format!("mysql://root@{MARIADB_ADDRESS}"));
    match sqlx::MySqlConnection::connect(&url).await {
        Ok(c) => Some(c),
        Err(e) => unavailable(test, &format!("no MariaDB/MySQL at {url} ({e})")),
    }
}

/// Whether `user` logs in to MariaDB with `password`, and the server's reason if not.
pub async fn mariadb_login(user: &str, password: &str) -> Result<sqlx::MySqlConnection, String> {
    sqlx::MySqlConnection::connect(&format!(
        "mysql://{user}:{}@{MARIADB_ADDRESS}/test",
        percent_encode(password)
    ))
    .await
    .map_err(|e| e.to_string())
}

pub async fn mariadb_execute(c: &mut sqlx::MySqlConnection, statement: &str) {
    sqlx::raw_sql(AssertSqlSafe(statement.to_owned()))
        .execute(c)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

pub const REDIS_ADDRESS: &str = "127.0.0.1:6379";

/// The shared Redis as its default user, or `None` (skipped) where it is not running.
pub async fn redis_admin(test: &str) -> Option<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://{REDIS_ADDRESS}")).unwrap();
    match client.get_multiplexed_async_connection().await {
        Ok(c) => Some(c),
        Err(e) => unavailable(test, &format!("no Redis at {REDIS_ADDRESS} ({e})")),
    }
}

/// Whether `user` logs in to Redis with `password` (AUTH, then PING).
pub async fn redis_login(user: &str, password: &str) -> Result<(), String> {
    let url = format!(
        "redis://{user}:{}@{REDIS_ADDRESS}",
        percent_encode(password)
    );
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query_async::<String>(&mut c)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A Redis of a test's own that speaks only TLS (a certificate from [`make_certificate`]),
/// on a free port, stopped when dropped.
pub struct PrivateTlsRedis {
    /// Holds the certificates and the server's files until the server is stopped.
    _dir: tempfile::TempDir,
    child: std::process::Child,
    pub port: u16,
    pub ca: PathBuf,
}

impl PrivateTlsRedis {
    pub fn start(test: &str) -> Option<PrivateTlsRedis> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            return unavailable(test, "no redis-server here (install redis-server)");
        }
        let dir = tempfile::tempdir().unwrap();
        let ca = make_certificate(dir.path());
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(dir.path().join("server.crt"))
            .arg("--tls-key-file")
            .arg(dir.path().join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(&ca)
            .arg("--dir")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let redis = PrivateTlsRedis {
            _dir: dir,
            child,
            port,
            ca,
        };
        for _ in 0..100 {
            if redis.cli(None, &["PING"]).contains("PONG") {
                return Some(redis);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the TLS Redis did not start");
    }

    /// redis-cli over TLS, as the default user or `Some((user, password))`: its output.
    pub fn cli(&self, login: Option<(&str, &str)>, args: &[&str]) -> String {
        let mut c = Command::new("redis-cli");
        c.args(["--tls", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("--cacert")
            .arg(&self.ca);
        if let Some((user, password)) = login {
            c.args(["--user", user, "--pass", password, "--no-auth-warning"]);
        }
        let out = c.args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }
}

impl Drop for PrivateTlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A MariaDB server of a test's own that accepts only TLS connections (a certificate from
/// [`make_certificate`]), on a free port, stopped when dropped. Its root user is reached over
/// its Unix socket.
pub struct PrivateTlsMariaDb {
    dir: tempfile::TempDir,
    child: std::process::Child,
    pub port: u16,
    pub ca: PathBuf,
}

impl PrivateTlsMariaDb {
    pub fn start(test: &str) -> Option<PrivateTlsMariaDb> {
        if Command::new("mariadbd").arg("--version").output().is_err()
            || Command::new("mariadb-install-db")
                .arg("--help")
                .output()
                .is_err()
        {
            return unavailable(
                test,
                "no mariadbd/mariadb-install-db here (install mariadb-server)",
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let ca = make_certificate(dir.path());
        let data = dir.path().join("data");
        let mut install = Command::new("mariadb-install-db");
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if is_root() {
            install.arg("--user=root");
        }
        let out = install.output().unwrap();
        assert!(
            out.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut server = Command::new("mariadbd");
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!(
                "--ssl-cert={}",
                dir.path().join("server.crt").display()
            ))
            .arg(format!(
                "--ssl-key={}",
                dir.path().join("server.key").display()
            ))
            .arg(format!("--ssl-ca={}", ca.display()))
            .args([
                "--require-secure-transport=ON",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap());
        if is_root() {
            server.arg("--user=root");
        }
        let child = server.spawn().unwrap();
        let db = PrivateTlsMariaDb {
            dir,
            child,
            port,
            ca,
        };
        for _ in 0..200 {
            if db.dir.path().join("sock").exists() {
                return Some(db);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "the TLS MariaDB did not start: {}",
            std::fs::read_to_string(db.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// Root, over the Unix socket.
    pub async fn root(&self) -> sqlx::MySqlConnection {
        use sqlx::ConnectOptions;
        sqlx::mysql::MySqlConnectOptions::new()
            .socket(self.dir.path().join("sock"))
            .username("root")
            .connect()
            .await
            .unwrap()
    }

    /// Whether `user` logs in over TCP with `password`: verified TLS, or plaintext.
    pub async fn login(&self, user: &str, password: &str, tls: bool) -> Result<(), String> {
        use sqlx::ConnectOptions;
        let mut options = sqlx::mysql::MySqlConnectOptions::new()
            .host("127.0.0.1")
            .port(self.port)
            .username(user)
            .password(password);
        options = if tls {
            options
                .ssl_mode(sqlx::mysql::MySqlSslMode::VerifyIdentity)
                .ssl_ca(&self.ca)
        } else {
            options.ssl_mode(sqlx::mysql::MySqlSslMode::Disabled)
        };
        options.connect().await.map(drop).map_err(|e| e.to_string())
    }
}

impl Drop for PrivateTlsMariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
