//! The one integration-test binary. Servers run in-process on port 0 (or as child processes
//! where a test kills them) and are driven by the real `aws-sdk-secretsmanager`.

mod harness;

mod conformance;
mod durability;
mod protocol;
mod secrecy;
mod sigv4_oracle;
mod sigv4_vectors;
