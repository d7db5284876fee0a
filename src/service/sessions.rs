//! Short-lived credentials for rotation functions: what an execution role gives a Lambda on
//! AWS. Each set may act only on the secret being rotated (see `auth::RotationScope`), lives in
//! the memory of the node that runs the function (the function talks to that node), and is
//! revoked when the rotation ends; used after its time is up, it is answered
//! ExpiredTokenException.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use zeroize::Zeroizing;

use super::Service;
use crate::auth::RotationScope;

/// A credential set as the function receives it in its environment.
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Zeroizing<String>,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// How long expired credentials are still recognised as such.
const EXPIRED_KEPT_FOR: Duration = Duration::from_secs(3600);

/// What a session's credentials are now.
pub(crate) enum SessionLookup {
    Live(Zeroizing<Vec<u8>>, RotationScope),
    /// Known, but past their expiry: ExpiredTokenException.
    Expired,
    /// Never issued, revoked, or the token does not match.
    Unknown,
}

struct Session {
    secret: Zeroizing<Vec<u8>>,
    token: Zeroizing<String>,
    scope: RotationScope,
    expires: Instant,
}

#[derive(Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

impl Service {
    /// New credentials for a function rotating `scope`'s secret, valid for `ttl`.
    pub fn issue_rotation_session(
        &self,
        scope: RotationScope,
        ttl: Duration,
    ) -> SessionCredentials {
        // AWS's temporary keys start with ASIA.
        let access_key_id = super::access_keys::aws_id("ASIA", 16);
        let secret = Zeroizing::new(random_string(40));
        let token = Zeroizing::new(random_string(64));
        let mut live = self.sessions.live.lock().expect("sessions lock");
        let now = Instant::now();
        // Expired sets are kept a while, so that their use is answered ExpiredTokenException
        // rather than as unknown credentials.
        live.retain(|_, s| s.expires + EXPIRED_KEPT_FOR > now);
        live.insert(
            access_key_id.clone(),
            Session {
                secret: Zeroizing::new(secret.as_bytes().to_vec()),
                token: token.clone(),
                scope,
                expires: now + ttl,
            },
        );
        SessionCredentials {
            access_key_id,
            secret_access_key: secret,
            session_token: token,
        }
    }

    pub fn revoke_session(&self, access_key_id: &str) {
        self.sessions
            .live
            .lock()
            .expect("sessions lock")
            .remove(access_key_id);
    }

    /// The secret and scope of the session whose token matches, for SigV4 verification.
    pub(crate) fn session(&self, access_key_id: &str, session_token: &str) -> SessionLookup {
        use subtle::ConstantTimeEq;
        let live = self.sessions.live.lock().expect("sessions lock");
        let Some(s) = live.get(access_key_id) else {
            return SessionLookup::Unknown;
        };
        let token_matches: bool = s.token.as_bytes().ct_eq(session_token.as_bytes()).into();
        if !token_matches {
            SessionLookup::Unknown
        } else if s.expires <= Instant::now() {
            SessionLookup::Expired
        } else {
            SessionLookup::Live(s.secret.clone(), s.scope.clone())
        }
    }
}
