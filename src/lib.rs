//! Tumbler: a self-hosted, AWS Secrets Manager-compatible secrets service.
//!
//! The map (ARCHITECTURE.md says more):
//! - [`cli`]: `tumbler serve`, `tumbler admin`, `tumbler config example`.
//! - [`config`]: the TOML file's strict shape and the typed, validated [`config::Config`].
//! - [`server`]: opens the store and keys, then serves a bound listener until shutdown.
//! - [`api`]: THE WIRE. awsJson1.1, SigV4, one file per operation, one error table.
//! - [`auth`]: [`auth::Principal`], the proof that a request was authenticated.
//! - [`service`]: one use case per operation; the only place store, clock and crypto meet.
//! - [`domain`]: pure rules (names, ARNs, staging labels, filters, passwords, schedules, the
//!   rotation state machine); no I/O.
//! - [`rotation`]: the rotation driver, scheduler and function runners.
//! - [`signing`]: SigV4 for requests Tumbler sends.
//! - [`crypto`]: envelope encryption (AES-256-GCM data keys under a master key).
//! - [`store`]: the [`store::Store`] trait and its SQLite and PostgreSQL backends.
//! - [`clock`]: epoch-millisecond time from a clock tests can control.
//! - [`telemetry`]: logging setup and the Prometheus metrics registry.
//! - [`error`]: the service error, named after AWS's exceptions.

pub mod api;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod rotation;
pub mod server;
pub mod service;
pub mod signing;
pub mod store;
pub mod telemetry;
