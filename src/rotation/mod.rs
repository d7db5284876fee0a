//! Rotation at work: the driver that runs each rotation's steps as a durable, leased job, the
//! scheduler that starts rotations when they fall due, and the runners that invoke rotation
//! functions (builtin, process under the Lambda Runtime API, http in the Lambda Invoke form).

pub mod builtin;
pub mod definition;
pub mod driver;
pub mod process;
pub mod runner;
pub mod scheduler;
