//! Envelope encryption of everything secret at rest.
//!
//! Each sealed blob has its own random 256-bit data key. The data key encrypts the plaintext
//! with AES-256-GCM; the master key wraps the data key with AES-256-GCM. Both layers take the
//! same associated data (for a secret value: its ARN and version id), so a ciphertext copied
//! onto another version or secret fails to open.
//!
//! Blob layout, version 1:
//! `0x01 | wrap nonce (12) | wrapped data key (32 + 16 tag) | value nonce (12) | ciphertext + tag`.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const WRAPPED_KEY_LEN: usize = 32 + 16;
const HEADER_LEN: usize = 1 + NONCE_LEN + WRAPPED_KEY_LEN + NONCE_LEN;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext is damaged, or was sealed under another master key or for another record")]
    Unsealable,
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
}

/// The 32-byte key every data key is wrapped with. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct MasterKey {
    /// The expanded key schedule, made once: every seal and open uses it. Zeroized on drop.
    cipher: Aes256Gcm,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        MasterKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes.as_ref())),
        }
    }

    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(k.as_mut());
        MasterKey::from_bytes(*k)
    }

    /// Reads the key file, or creates it (mode 0600, 32 random bytes) when `create` and it is
    /// absent. Returns whether it was created.
    pub fn load_or_create(path: &Path, create: bool) -> Result<(MasterKey, bool), CryptoError> {
        let err = |reason: String| CryptoError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    err(format!("must hold exactly 32 bytes, holds {}", bytes.len()))
                })?;
                Ok((MasterKey::from_bytes(arr), false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut raw = Zeroizing::new([0u8; 32]);
                rand::rng().fill_bytes(raw.as_mut());
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                let mut f = opts.open(path).map_err(|e| err(e.to_string()))?;
                f.write_all(raw.as_ref()).map_err(|e| err(e.to_string()))?;
                f.sync_all().map_err(|e| err(e.to_string()))?;
                Ok((MasterKey::from_bytes(*raw), true))
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    fn cipher(&self) -> &Aes256Gcm {
        &self.cipher
    }

    /// Encrypts `plaintext` under a fresh data key bound to `aad`.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut rng = rand::rng();
        let mut data_key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(data_key.as_mut());
        let mut wrap_nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut wrap_nonce);
        let mut value_nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut value_nonce);

        let wrapped = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&wrap_nonce),
                Payload {
                    msg: data_key.as_ref(),
                    aad,
                },
            )
            .expect("AES-GCM encryption of 32 bytes cannot fail");
        let ciphertext = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.as_ref()))
            .encrypt(
                Nonce::from_slice(&value_nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption within size limits cannot fail");

        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&wrap_nonce);
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&value_nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`seal`](Self::seal) made with the same `aad`.
    pub fn open(&self, blob: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < HEADER_LEN + 16 || blob[0] != FORMAT_V1 {
            return Err(CryptoError::Unsealable);
        }
        let wrap_nonce = &blob[1..1 + NONCE_LEN];
        let wrapped = &blob[1 + NONCE_LEN..1 + NONCE_LEN + WRAPPED_KEY_LEN];
        let value_nonce = &blob[1 + NONCE_LEN + WRAPPED_KEY_LEN..HEADER_LEN];
        let ciphertext = &blob[HEADER_LEN..];
        let data_key = Zeroizing::new(
            self.cipher()
                .decrypt(Nonce::from_slice(wrap_nonce), Payload { msg: wrapped, aad })
                .map_err(|_| CryptoError::Unsealable)?,
        );
        if data_key.len() != 32 {
            return Err(CryptoError::Unsealable);
        }
        let plaintext = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key))
            .decrypt(
                Nonce::from_slice(value_nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Unsealable)?;
        Ok(Zeroizing::new(plaintext))
    }
}

/// The associated data that binds a secret value to its secret and version.
pub fn value_aad(secret_arn: &str, version_id: &str) -> Vec<u8> {
    format!("tumbler:secret-value:v1\0{secret_arn}\0{version_id}").into_bytes()
}

/// The associated data that binds an access key's secret part to its id.
pub fn access_key_aad(access_key_id: &str) -> Vec<u8> {
    format!("tumbler:access-key:v1\0{access_key_id}").into_bytes()
}

/// What the store keeps to recognise the master key it was written with.
pub const KEY_CHECK_AAD: &[u8] = b"tumbler:master-key-check:v1";
pub const KEY_CHECK_PLAINTEXT: &[u8] = b"tumbler master key check";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_and_aad() {
        let k = MasterKey::generate();
        let blob = k.seal(b"hunter2", b"arn|v1");
        assert_eq!(k.open(&blob, b"arn|v1").unwrap().as_slice(), b"hunter2");
    }

    #[test]
    fn sealed_values_do_not_contain_the_plaintext() {
        let k = MasterKey::generate();
        let blob = k.seal(b"plaintext-marker-plaintext-marker", b"aad");
        assert!(!blob.windows(6).any(|w| w == b"marker"));
    }

    #[test]
    fn another_aad_another_key_or_a_flipped_bit_fail_to_open() {
        let k = MasterKey::generate();
        let blob = k.seal(b"v", b"secret-a|v1");
        assert!(k.open(&blob, b"secret-b|v1").is_err());
        assert!(MasterKey::generate().open(&blob, b"secret-a|v1").is_err());
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(k.open(&bad, b"secret-a|v1").is_err());
        assert!(k.open(&blob[..10], b"secret-a|v1").is_err());
    }

    #[test]
    fn each_seal_uses_a_fresh_data_key_and_nonce() {
        let k = MasterKey::generate();
        assert_ne!(k.seal(b"same", b"aad"), k.seal(b"same", b"aad"));
    }

    #[test]
    fn key_file_is_created_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, created) = MasterKey::load_or_create(&path, true).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (k2, created) = MasterKey::load_or_create(&path, true).unwrap();
        assert!(!created);
        let blob = k1.seal(b"x", b"a");
        assert_eq!(k2.open(&blob, b"a").unwrap().as_slice(), b"x");
    }

    #[test]
    fn a_key_file_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, b"short").unwrap();
        assert!(MasterKey::load_or_create(&path, true).is_err());
    }
}
