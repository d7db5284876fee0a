//! The operations of Secrets Manager 2017-10-17, and the one match that dispatches them.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::ops;
use super::protocol::{TARGET_PREFIX, parse_json};
use crate::auth::Principal;
use crate::service::Service;

macro_rules! operations {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($name),* }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$name),*];

            pub fn name(self) -> &'static str {
                match self { $(Operation::$name => stringify!($name)),* }
            }
        }
    };
}

operations!(
    BatchGetSecretValue,
    CancelRotateSecret,
    CreateSecret,
    DeleteResourcePolicy,
    DeleteSecret,
    DescribeSecret,
    GetRandomPassword,
    GetResourcePolicy,
    GetSecretValue,
    ListSecretVersionIds,
    ListSecrets,
    PutResourcePolicy,
    PutSecretValue,
    RemoveRegionsFromReplication,
    ReplicateSecretToRegions,
    RestoreSecret,
    RotateSecret,
    StopReplicationToReplica,
    TagResource,
    UntagResource,
    UpdateSecret,
    UpdateSecretVersionStage,
    ValidateResourcePolicy,
);

impl Operation {
    /// `secretsmanager.GetSecretValue` -> `GetSecretValue`.
    pub fn from_target(target: &str) -> Option<Operation> {
        let name = target.strip_prefix(TARGET_PREFIX)?;
        Operation::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Operations IAM gives no resource type (spec §8): authorized against `*`.
    pub fn has_no_resource(self) -> bool {
        matches!(
            self,
            Operation::ListSecrets | Operation::GetRandomPassword | Operation::BatchGetSecretValue
        )
    }

    /// Whether the operation only reads (CloudTrail's `readOnly`).
    pub fn is_read_only(self) -> bool {
        let name = self.name();
        ["Get", "Describe", "List", "BatchGet", "Validate"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    }

    /// Parses the body as this operation's request, runs it, and serializes the response.
    pub async fn dispatch(
        self,
        svc: &Service,
        p: &Principal,
        body: &[u8],
    ) -> Result<Vec<u8>, ApiError> {
        use Operation::*;
        match self {
            BatchGetSecretValue => {
                run(body, |r| ops::batch_get_secret_value::handle(svc, p, r)).await
            }
            CancelRotateSecret => run(body, |r| ops::cancel_rotate_secret::handle(svc, p, r)).await,
            CreateSecret => run(body, |r| ops::create_secret::handle(svc, p, r)).await,
            DeleteResourcePolicy => {
                run(body, |r| ops::delete_resource_policy::handle(svc, p, r)).await
            }
            DeleteSecret => run(body, |r| ops::delete_secret::handle(svc, p, r)).await,
            DescribeSecret => run(body, |r| ops::describe_secret::handle(svc, p, r)).await,
            GetRandomPassword => run(body, |r| ops::get_random_password::handle(svc, p, r)).await,
            GetResourcePolicy => run(body, |r| ops::get_resource_policy::handle(svc, p, r)).await,
            GetSecretValue => run(body, |r| ops::get_secret_value::handle(svc, p, r)).await,
            ListSecretVersionIds => {
                run(body, |r| ops::list_secret_version_ids::handle(svc, p, r)).await
            }
            ListSecrets => run(body, |r| ops::list_secrets::handle(svc, p, r)).await,
            PutResourcePolicy => run(body, |r| ops::put_resource_policy::handle(svc, p, r)).await,
            PutSecretValue => run(body, |r| ops::put_secret_value::handle(svc, p, r)).await,
            RemoveRegionsFromReplication => {
                run(body, |r| {
                    ops::remove_regions_from_replication::handle(svc, p, r)
                })
                .await
            }
            ReplicateSecretToRegions => {
                run(body, |r| {
                    ops::replicate_secret_to_regions::handle(svc, p, r)
                })
                .await
            }
            RestoreSecret => run(body, |r| ops::restore_secret::handle(svc, p, r)).await,
            RotateSecret => run(body, |r| ops::rotate_secret::handle(svc, p, r)).await,
            StopReplicationToReplica => {
                run(body, |r| {
                    ops::stop_replication_to_replica::handle(svc, p, r)
                })
                .await
            }
            TagResource => run(body, |r| ops::tag_resource::handle(svc, p, r)).await,
            UntagResource => run(body, |r| ops::untag_resource::handle(svc, p, r)).await,
            UpdateSecret => run(body, |r| ops::update_secret::handle(svc, p, r)).await,
            UpdateSecretVersionStage => {
                run(body, |r| {
                    ops::update_secret_version_stage::handle(svc, p, r)
                })
                .await
            }
            ValidateResourcePolicy => {
                run(body, |r| ops::validate_resource_policy::handle(svc, p, r)).await
            }
        }
    }
}

async fn run<Req, Resp, F, Fut>(body: &[u8], handler: F) -> Result<Vec<u8>, ApiError>
where
    Req: DeserializeOwned,
    Resp: Serialize,
    F: FnOnce(Req) -> Fut,
    Fut: Future<Output = crate::error::Result<Resp>>,
{
    let request: Req = parse_json(body)?;
    let response = handler(request).await?;
    serde_json::to_vec(&response).map_err(|e| ApiError::Service(crate::error::Error::internal(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_operations_and_nothing_else() {
        assert_eq!(
            Operation::from_target("secretsmanager.GetSecretValue"),
            Some(Operation::GetSecretValue)
        );
        assert_eq!(
            Operation::from_target("secretsmanager.getSecretValue"),
            None
        );
        assert_eq!(Operation::from_target("kms.GetSecretValue"), None);
        assert_eq!(Operation::ALL.len(), 23);
    }
}
