//! Verification of AWS Signature Version 4 in the `Authorization` header.
//!
//! The verifier recomputes the canonical request from exactly the headers listed in
//! `SignedHeaders` (SDKs differ in what they sign), derives the signing key from the stored
//! secret access key, and compares signatures in constant time. Its errors carry AWS's codes and
//! texts (spec §1.4).

use std::fmt::Write as _;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Characters SigV4 leaves unencoded: RFC 3986 unreserved.
const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request was not authenticated, in AWS's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    MissingAuthenticationToken,
    IncompleteSignature(String),
    InvalidSignature(String),
    UnrecognizedClient,
    /// Temporary credentials (a rotation function's) whose time is up.
    ExpiredToken,
}

/// The parts of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=...`.
pub fn parse_authorization(
    header: &str,
    expected_service: &str,
) -> Result<AuthorizationHeader, AuthError> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(AuthError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Authorization={header}"
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(AuthError::IncompleteSignature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match key.trim() {
            "Credential" => credential = Some(value.trim()),
            "SignedHeaders" => signed_headers = Some(value.trim()),
            "Signature" => signature = Some(value.trim()),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if v.is_none_or(str::is_empty) {
            let _ = write!(
                missing,
                "Authorization header requires '{name}' parameter. "
            );
        }
    }
    if !missing.is_empty() {
        return Err(AuthError::IncompleteSignature(format!(
            "{missing}Authorization={header}"
        )));
    }
    let (credential, signed_headers, signature) = (
        credential.unwrap_or_default(),
        signed_headers.unwrap_or_default(),
        signature.unwrap_or_default(),
    );
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(AuthError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region. Authorization={header}"
        )));
    };
    if terminator != "aws4_request" {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if service != expected_service {
        return Err(AuthError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{expected_service}'. "
        )));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AuthError::InvalidSignature(
            "Credential should be scoped to a valid region. ".into(),
        ));
    }
    if access_key_id.is_empty() {
        return Err(AuthError::UnrecognizedClient);
    }
    Ok(AuthorizationHeader {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// The request time from `X-Amz-Date` (or `Date`), as `YYYYMMDD'T'HHMMSS'Z'` and epoch seconds.
pub fn request_time(headers: &HeaderMap) -> Result<(String, i64), AuthError> {
    let raw = headers
        .get("x-amz-date")
        .or_else(|| headers.get("date"))
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            AuthError::IncompleteSignature(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into(),
            )
        })?;
    // Every SDK sends X-Amz-Date in the basic format: read it without a general parser.
    if let Some(secs) = parse_basic_iso8601(raw) {
        return Ok((raw.to_owned(), secs));
    }
    let parsed = jiff::fmt::rfc2822::parse(raw).ok();
    let Some(zoned) = parsed else {
        return Err(AuthError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    let utc = zoned.with_time_zone(jiff::tz::TimeZone::UTC);
    Ok((
        utc.strftime("%Y%m%dT%H%M%SZ").to_string(),
        utc.timestamp().as_second(),
    ))
}

/// `YYYYMMDD'T'HHMMSS'Z'` as epoch seconds, or `None` if it is not a valid such time.
fn parse_basic_iso8601(raw: &str) -> Option<i64> {
    let b = raw.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range.clone()].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let date = jiff::civil::Date::new(y as i16, m as i8, d as i8).ok()?;
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = i64::from(date.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days());
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Checks the request time against `now` (epoch seconds), allowing `max_skew_secs` either way.
pub fn check_skew(
    amz_date: &str,
    request_secs: i64,
    now_secs: i64,
    max_skew_secs: i64,
) -> Result<(), AuthError> {
    let fmt = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default()
    };
    let minutes = max_skew_secs / 60;
    if request_secs < now_secs - max_skew_secs {
        return Err(AuthError::InvalidSignature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - {minutes} min.)",
            fmt(now_secs - max_skew_secs),
            fmt(now_secs)
        )));
    }
    if request_secs > now_secs + max_skew_secs {
        return Err(AuthError::InvalidSignature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + {minutes} min.)",
            fmt(now_secs + max_skew_secs),
            fmt(now_secs)
        )));
    }
    Ok(())
}

/// The canonical URI: the path normalized (empty and `.` segments dropped, `..` resolved, a
/// trailing slash kept) with each segment percent-encoded. The path arrives as sent on the
/// wire, already encoded once, so this is the "encode twice" every service but S3 uses.
pub fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    let encoded: Vec<String> = segments
        .iter()
        .map(|s| utf8_percent_encode(s, SIGV4_ENCODE).to_string())
        .collect();
    out.push_str(&encoded.join("/"));
    // As in RFC 3986's remove_dot_segments, a path ending in `/`, `/.` or `/..` keeps its slash.
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if !segments.is_empty() && trailing {
        out.push('/');
    }
    out
}

pub fn canonical_query(query: Option<&str>) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', "%20"))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (
                utf8_percent_encode(&dec(k), SIGV4_ENCODE).to_string(),
                utf8_percent_encode(&dec(v), SIGV4_ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Header values as SigV4 reads them: trimmed, inner runs of spaces folded to one, repeated
/// headers joined with commas.
fn push_canonical_header_value(out: &mut String, headers: &HeaderMap, name: &str) {
    for (i, v) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let s = String::from_utf8_lossy(v.as_bytes());
        for (j, word) in s.split_whitespace().enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
}

/// The canonical request of SigV4 for a request whose target is `path` and `query` as sent.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(method);
    out.push('\n');
    out.push_str(&canonical_uri(path));
    out.push('\n');
    out.push_str(&canonical_query(query));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        push_canonical_header_value(&mut out, headers, name);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        lower_hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Lower-case hex, as SigV4 spells hashes and signatures (a table, not a char iterator: this
/// runs three times per request).
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
    String::from_utf8(out).expect("hex digits are ASCII")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(
    secret_access_key: &[u8],
    date: &str,
    region: &str,
    service: &str,
) -> zeroize::Zeroizing<[u8; 32]> {
    let mut k = zeroize::Zeroizing::new(Vec::with_capacity(4 + secret_access_key.len()));
    k.extend_from_slice(b"AWS4");
    k.extend_from_slice(secret_access_key);
    let k_date = zeroize::Zeroizing::new(hmac(&k, date.as_bytes()));
    let k_region = zeroize::Zeroizing::new(hmac(k_date.as_ref(), region.as_bytes()));
    let k_service = zeroize::Zeroizing::new(hmac(k_region.as_ref(), service.as_bytes()));
    zeroize::Zeroizing::new(hmac(k_service.as_ref(), b"aws4_request"))
}

pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    lower_hex(&hmac(signing_key, string_to_sign.as_bytes()))
}

pub fn payload_hash(headers: &HeaderMap, body: &[u8]) -> String {
    match headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(h) => h.to_owned(),
        None => lower_hex(&Sha256::digest(body)),
    }
}

/// Signing keys already derived for an access key's current (date, Region, service): a key is
/// valid for a day, a Region and a service, and deriving it costs four HMACs per request otherwise. Each entry keeps the secret
/// it came from, so a changed secret never matches a stale key.
#[derive(Default)]
pub struct SigningKeyCache {
    /// By access key id: one key in use per access key at a time, so a lookup allocates nothing.
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedKey>>,
}

struct CachedKey {
    date: String,
    region: String,
    /// `secretsmanager` or `iam`: the same key signs for both at one endpoint.
    service: String,
    secret: zeroize::Zeroizing<Vec<u8>>,
    key: zeroize::Zeroizing<[u8; 32]>,
}

/// Entries beyond this are dropped wholesale (they are cheap to derive again).
const SIGNING_KEY_CACHE_MAX: usize = 10_000;

impl SigningKeyCache {
    pub fn key_for(
        &self,
        auth: &AuthorizationHeader,
        secret: &[u8],
    ) -> zeroize::Zeroizing<[u8; 32]> {
        let mut entries = self.entries.lock().expect("signing key cache");
        if let Some(c) = entries.get(auth.access_key_id.as_str())
            && c.date == auth.date
            && c.region == auth.region
            && c.service == auth.service
            && c.secret.len() == secret.len()
            && bool::from(c.secret.as_slice().ct_eq(secret))
        {
            return c.key.clone();
        }
        let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
        if entries.len() >= SIGNING_KEY_CACHE_MAX {
            entries.clear();
        }
        entries.insert(
            auth.access_key_id.clone(),
            CachedKey {
                date: auth.date.clone(),
                region: auth.region.clone(),
                service: auth.service.clone(),
                secret: zeroize::Zeroizing::new(secret.to_vec()),
                key: key.clone(),
            },
        );
        key
    }
}

/// Everything needed to check one request's signature once the secret key is known.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub auth: &'a AuthorizationHeader,
    pub amz_date: &'a str,
}

impl SignedRequest<'_> {
    /// Recomputes the signature with `secret_access_key` and compares in constant time.
    pub fn verify(&self, secret_access_key: &[u8]) -> Result<(), AuthError> {
        let a = self.auth;
        self.verify_with_key(&signing_key(
            secret_access_key,
            &a.date,
            &a.region,
            &a.service,
        ))
    }

    /// As [`verify`](Self::verify), with the signing key already derived.
    pub fn verify_with_key(&self, key: &[u8; 32]) -> Result<(), AuthError> {
        let a = self.auth;
        let creq = canonical_request(
            self.method,
            self.path,
            self.query,
            self.headers,
            &a.signed_headers,
            &payload_hash(self.headers, self.body),
        );
        let scope = format!("{}/{}/{}/aws4_request", a.date, a.region, a.service);
        let sts = string_to_sign(self.amz_date, &scope, &creq);
        let expected = signature(key, &sts);
        let given = a.signature.as_bytes();
        if expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given)) {
            return Ok(());
        }
        Err(AuthError::InvalidSignature(format!(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_botocore_authorization_header() {
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc";
        let a = parse_authorization(h, "secretsmanager").unwrap();
        assert_eq!(a.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(
            a.signed_headers,
            ["content-type", "host", "x-amz-date", "x-amz-target"]
        );
    }

    #[test]
    fn missing_parts_are_an_incomplete_signature_naming_each() {
        let err = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/secretsmanager/aws4_request",
            "secretsmanager",
        )
        .unwrap_err();
        let AuthError::IncompleteSignature(m) = err else {
            panic!()
        };
        assert!(m.starts_with("Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4"));
    }

    #[test]
    fn a_pair_without_equals_is_named() {
        let err = parse_authorization("AWS4-HMAC-SHA256 Credential", "secretsmanager").unwrap_err();
        assert_eq!(err, AuthError::IncompleteSignature("'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential'.".into()));
    }

    #[test]
    fn another_service_in_the_scope_is_refused() {
        let err = parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x", "secretsmanager").unwrap_err();
        assert!(matches!(err, AuthError::InvalidSignature(m) if m.contains("'secretsmanager'")));
    }

    #[test]
    fn skew_beyond_the_limit_either_way_is_refused_with_aws_text() {
        let now = 1_762_435_568; // 2025-11-06T13:26:08Z
        assert!(check_skew("x", now - 899, now, 900).is_ok());
        assert_eq!(
            check_skew("20251105T220858Z", 1_762_380_538, now, 300).unwrap_err(),
            AuthError::InvalidSignature("Signature expired: 20251105T220858Z is now earlier than 20251106T132108Z (20251106T132608Z - 5 min.)".into())
        );
        let AuthError::InvalidSignature(m) = check_skew("x", now + 901, now, 900).unwrap_err()
        else {
            panic!()
        };
        assert!(m.starts_with("Signature not yet current: x is still later than 20251106T134108Z (20251106T132608Z + 15 min.)"), "{m}");
    }

    #[test]
    fn cached_signing_keys_follow_the_secret_date_and_region() {
        let cache = SigningKeyCache::default();
        let mut auth = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=x",
            "secretsmanager",
        )
        .unwrap();
        let derive =
            |a: &AuthorizationHeader, s: &[u8]| *signing_key(s, &a.date, &a.region, &a.service);
        assert_eq!(*cache.key_for(&auth, b"one"), derive(&auth, b"one"));
        assert_eq!(
            *cache.key_for(&auth, b"one"),
            derive(&auth, b"one"),
            "from the cache"
        );
        assert_eq!(
            *cache.key_for(&auth, b"two"),
            derive(&auth, b"two"),
            "a changed secret"
        );
        auth.region = "eu-west-1".into();
        assert_eq!(
            *cache.key_for(&auth, b"two"),
            derive(&auth, b"two"),
            "another Region"
        );
        auth.date = "20150831".into();
        assert_eq!(
            *cache.key_for(&auth, b"two"),
            derive(&auth, b"two"),
            "another day"
        );
        auth.service = "iam".into();
        assert_eq!(
            *cache.key_for(&auth, b"two"),
            derive(&auth, b"two"),
            "another service"
        );
    }

    #[test]
    fn basic_iso8601_times_read_as_epoch_seconds_and_bad_ones_do_not() {
        assert_eq!(parse_basic_iso8601("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_basic_iso8601("19700101T000000Z"), Some(0));
        assert_eq!(parse_basic_iso8601("20240229T235959Z"), Some(1_709_251_199));
        for bad in [
            "20150230T123600Z",
            "20150830T243600Z",
            "2015083T123600Z",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
        ] {
            assert_eq!(parse_basic_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_uri_resolves_dots_and_double_encodes() {
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/example/.."), "/");
        assert_eq!(canonical_uri("/./"), "/");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        assert_eq!(
            canonical_query(Some("Param2=value2&Param1=value1")),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            canonical_query(Some("Param1=value2&Param1=Value1")),
            "Param1=Value1&Param1=value2"
        );
        assert_eq!(canonical_query(Some("a=b c")), "a=b%20c");
    }
}
