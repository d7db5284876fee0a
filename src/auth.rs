//! Who is calling, and with which policies. A [`Principal`] can only be made by the request
//! authenticator in `api` (or the `--dev` server's stand-in) and by the rotation driver for
//! builtin functions, so every service method that takes `&Principal` is unreachable from an
//! unauthenticated path. What a principal may do is decided by `service::authorization`,
//! from the policies the principal carries.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use crate::domain::policy::{Caller, Policy};
use crate::domain::{AccountId, Region};

#[derive(Debug, Clone)]
pub struct Principal {
    access_key_id: String,
    identity: Identity,
    account: AccountId,
    region: Region,
    request: Arc<RequestFacts>,
    /// The operation being called, for AccessDeniedException texts and the action policies
    /// are asked about.
    operation: &'static str,
}

/// An IAM user with its identity policies, or a rotation function acting with its role.
#[derive(Debug, Clone)]
pub enum Identity {
    /// Shared with the cache it was loaded into: a request copies a pointer, not the policies.
    User(Arc<UserIdentity>),
    Rotation(RotationScope),
}

/// An IAM user as policies see it: the inline policies are parsed once, when loaded.
#[derive(Debug, Clone)]
pub struct UserIdentity {
    pub user_name: String,
    /// IAM's unique id (`AIDA...`): `aws:userid`.
    pub user_id: String,
    /// IAM's path, `/` unless the user was created with another.
    pub path: String,
    pub policies: Arc<Vec<Policy>>,
}

/// What a rotation function's execution role allows on AWS (spec §4.3). By default, the calls
/// its steps make on the one secret being rotated plus GetRandomPassword
/// (`rotation::definition::role_policy`); a function may declare its own role policy.
#[derive(Debug, Clone)]
pub struct RotationScope {
    pub function_name: String,
    /// The role's policy, with the secret's ARN filled in.
    pub policy: Arc<Policy>,
}

/// Condition keys of a request's parameters, with their values.
pub type ConditionKeys = Vec<(String, Vec<String>)>;

/// What the request carries that policies may ask about, besides the caller.
#[derive(Default)]
pub struct RequestFacts {
    /// `aws:SourceIp`: the peer's address (a proxy's, if one is in front).
    pub source_ip: Option<IpAddr>,
    /// `aws:SecureTransport`: whether the request came over TLS.
    pub secure_transport: bool,
    /// Reads the condition keys of the request's parameters (`secretsmanager:Name`,
    /// `aws:RequestTag/...`, present only when the caller sent the parameter); run only if a
    /// policy asks, since most calls are decided without them.
    read_keys: Option<Box<dyn Fn() -> ConditionKeys + Send + Sync>>,
    keys: OnceLock<ConditionKeys>,
}

impl RequestFacts {
    pub fn new(
        source_ip: Option<IpAddr>,
        secure_transport: bool,
        read_keys: impl Fn() -> ConditionKeys + Send + Sync + 'static,
    ) -> RequestFacts {
        RequestFacts {
            source_ip,
            secure_transport,
            read_keys: Some(Box::new(read_keys)),
            keys: OnceLock::new(),
        }
    }

    /// The request's parameter condition keys, read on first use.
    pub fn keys(&self) -> &ConditionKeys {
        self.keys.get_or_init(|| {
            self.read_keys
                .as_ref()
                .map(|read| read())
                .unwrap_or_default()
        })
    }
}

impl std::fmt::Debug for RequestFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestFacts")
            .field("source_ip", &self.source_ip)
            .field("secure_transport", &self.secure_transport)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// Only `api::authenticate` calls this, after the signature has been verified (or, on a
    /// `--dev` server, after the credentials were found well-formed).
    pub(crate) fn authenticated(
        access_key_id: String,
        identity: Identity,
        account: AccountId,
        region: Region,
    ) -> Principal {
        Principal {
            access_key_id,
            identity,
            account,
            region,
            request: Arc::default(),
            operation: "",
        }
    }

    /// The same caller, calling `operation`.
    pub fn for_operation(self, operation: &'static str) -> Principal {
        Principal { operation, ..self }
    }

    /// The same caller, with what its request carries.
    pub fn with_request(self, request: RequestFacts) -> Principal {
        Principal {
            request: Arc::new(request),
            ..self
        }
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn request(&self) -> &RequestFacts {
        &self.request
    }

    pub fn scope(&self) -> Option<&RotationScope> {
        match &self.identity {
            Identity::Rotation(s) => Some(s),
            Identity::User(_) => None,
        }
    }

    /// The identity-based policies that apply to this caller.
    pub fn identity_policies(&self) -> &[Policy] {
        match &self.identity {
            Identity::User(u) => &u.policies,
            Identity::Rotation(s) => std::slice::from_ref(&s.policy),
        }
    }

    /// The caller as policies see it.
    pub fn caller(&self) -> Caller {
        Caller {
            account: self.account.0.clone(),
            arn: self.arn(),
            user_name: self.user_name().to_owned(),
            user_id: self.user_id(),
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn user_name(&self) -> &str {
        match &self.identity {
            Identity::User(u) => &u.user_name,
            Identity::Rotation(s) => &s.function_name,
        }
    }

    /// `aws:userid`: a user's unique id, or `ROLEID:session` for an assumed role.
    pub fn user_id(&self) -> String {
        match &self.identity {
            Identity::User(u) => u.user_id.clone(),
            Identity::Rotation(s) => format!("AROATUMBLERROTATION:{}", s.function_name),
        }
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The Region of the credential scope: the namespace the call works in.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The same caller in another Region (for work on replicas).
    pub fn in_region(&self, region: &Region) -> Principal {
        Principal {
            region: region.clone(),
            ..self.clone()
        }
    }

    pub fn arn(&self) -> String {
        match &self.identity {
            Identity::Rotation(s) => format!(
                "arn:aws:sts::{}:assumed-role/tumbler-rotation/{}",
                self.account.0, s.function_name
            ),
            Identity::User(u) => format!(
                "arn:aws:iam::{}:user{}{}",
                self.account.0, u.path, u.user_name
            ),
        }
    }
}
