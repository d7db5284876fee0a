//! The one integration-test binary. Servers run in-process on port 0 (or as child processes
//! where a test kills them) and are driven by the real `aws-sdk-secretsmanager`.

/// Runs an async story `fn(Backend)` once on SQLite and once on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            use crate::harness::{Backend, drop_postgres, postgres_url};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$story(Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(url) = postgres_url(stringify!($story)).await {
                    super::$story(Backend::Postgres(url.clone())).await;
                    drop_postgres(&url).await;
                }
            }
        }
    )*};
}

mod harness;

mod audit;
mod conformance;
mod database_rotation;
mod databases;
mod durability;
mod protocol;
mod rotation;
mod rotation_durability;
mod rotation_process;
mod secrecy;
mod sigv4_oracle;
mod sigv4_vectors;
