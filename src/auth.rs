//! Who is calling. A [`Principal`] can only be made by the request authenticator in
//! `api::sigv4` (or the `--dev` server's stand-in), so every service method that takes
//! `&Principal` is unreachable from an unauthenticated path.

use crate::domain::{AccountId, Region};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    access_key_id: String,
    user_name: String,
    account: AccountId,
    region: Region,
}

impl Principal {
    /// Only `api::sigv4` calls this, after the signature has been verified (or, on a `--dev`
    /// server, after the credentials were found well-formed).
    pub(crate) fn authenticated(
        access_key_id: String,
        user_name: String,
        account: AccountId,
        region: Region,
    ) -> Principal {
        Principal {
            access_key_id,
            user_name,
            account,
            region,
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn user_name(&self) -> &str {
        &self.user_name
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
        format!("arn:aws:iam::{}:user/{}", self.account.0, self.user_name)
    }
}
