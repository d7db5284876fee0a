//! Pure rules of Secrets Manager: names, ARNs, versions and staging labels, ListSecrets filters,
//! random passwords. Invariant: nothing here does I/O, awaits, or knows a wire format.

pub mod filter;
pub mod name;
pub mod password;
pub mod policy;
pub mod rotation;
pub mod schedule;
pub mod secret;

pub use name::{AccountId, Arn, Region, SecretName, SecretRef, VersionId};
pub use secret::{Replica, ReplicaStatus, RotationRules, Secret, SecretValue, Tag, Version};

/// The label every read defaults to.
pub const AWSCURRENT: &str = "AWSCURRENT";
/// The label AWSCURRENT's previous holder receives when AWSCURRENT moves.
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
/// The label of the version a rotation is creating.
pub const AWSPENDING: &str = "AWSPENDING";
/// The KMS key AWS uses when none is given; never shown in DescribeSecret.
pub const DEFAULT_KMS_KEY: &str = "aws/secretsmanager";
