//! Trusted timestamps (RFC 3161): a time-stamping authority signs "this hash existed at this
//! time". An item's SHA-256 and the custody log's head are sent to the TSA configured (none by
//! default), and the signed token it returns is kept beside the item. A token is checked by its
//! message imprint (the hash it covers must be the item's) and its signature, against the TSA's
//! certificate given by the user: the signed attributes' message digest must be that of the
//! token's content, and the signature over them must verify with the certificate's key.

use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// SHA-256.
const SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// SHA-384.
const SHA384: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
/// SHA-512.
const SHA512: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
/// The CMS signed-data content type.
const SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// The message-digest signed attribute.
const MESSAGE_DIGEST: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// Why a timestamp could not be had or does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsaError {
    /// The TSA could not be reached or answered with an HTTP error.
    #[error("the time-stamping authority {url} could not be reached: {why}")]
    Unreachable {
        /// Its URL.
        url: String,
        /// Why.
        why: String,
    },
    /// The TSA refused the request.
    #[error("the time-stamping authority refused the request (status {0})")]
    Refused(String),
    /// The token (or answer) is not DER this program can read.
    #[error("not a timestamp token: {0}")]
    Malformed(String),
    /// The token covers other bytes.
    #[error("the token is for other bytes: it covers {covers}, not {wanted}")]
    OtherBytes {
        /// The hash it covers.
        covers: String,
        /// The hash it should cover.
        wanted: String,
    },
    /// The signature does not verify with the certificate given.
    #[error("the token's signature does not verify with the TSA certificate given ({0})")]
    BadSignature(String),
    /// The certificate could not be read.
    #[error("the TSA certificate cannot be read: {0}")]
    Certificate(String),
}

fn malformed(e: impl std::fmt::Display) -> TsaError {
    TsaError::Malformed(e.to_string())
}

/// A token's time and what it covers, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// When the TSA says the hash existed (UTC, as the token gives it).
    pub time: String,
    /// The hash the token covers, lower-case hex.
    pub covers: String,
}

/// The DER `TimeStampReq` for a SHA-256 hash (hex), asking for the TSA's certificate.
pub fn request(sha256_hex: &str, nonce: u64) -> Result<Vec<u8>, TsaError> {
    let hash = unhex(sha256_hex).ok_or_else(|| malformed("not a SHA-256"))?;
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: x509_cert::spki::AlgorithmIdentifier {
                oid: SHA256,
                parameters: Some(der::Any::null()),
            },
            hashed_message: OctetString::new(hash).map_err(malformed)?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce.to_be_bytes()).map_err(malformed)?),
        cert_req: true,
        extensions: None,
    };
    req.to_der().map_err(malformed)
}

/// Sends `sha256_hex` to the TSA at `url` and gives the token it signs (DER `ContentInfo`).
pub fn fetch(url: &str, sha256_hex: &str) -> Result<Vec<u8>, TsaError> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    let body = request(sha256_hex, nonce)?;
    let unreachable = |why: String| TsaError::Unreachable {
        url: url.to_string(),
        why,
    };
    // Only needed for https; installing it twice is refused harmlessly.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .user_agent(concat!("incident-map/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| unreachable(e.to_string()))?;
    let resp = client
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .body(body)
        .send()
        .map_err(|e| unreachable(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(unreachable(format!("HTTP {}", resp.status())));
    }
    let bytes = resp.bytes().map_err(|e| unreachable(e.to_string()))?;
    token_of(&bytes)
}

/// The token of a `TimeStampResp`, when the TSA granted it.
pub fn token_of(resp: &[u8]) -> Result<Vec<u8>, TsaError> {
    let r = TimeStampResp::from_der(resp).map_err(malformed)?;
    let status = r.status.status as u8;
    if status > 1 {
        return Err(TsaError::Refused(format!("{status}")));
    }
    r.time_stamp_token
        .ok_or_else(|| malformed("granted but no token"))?
        .to_der()
        .map_err(malformed)
}

/// The time a token gives and the hash it covers, without checking its signature.
pub fn read(token: &[u8]) -> Result<Stamp, TsaError> {
    let (tst, _, _) = parts(token)?;
    Ok(stamp_of(&tst))
}

fn stamp_of(tst: &TstInfo) -> Stamp {
    Stamp {
        time: tst.gen_time.to_date_time().to_string(),
        covers: super::custody::hex(tst.message_imprint.hashed_message.as_bytes()),
    }
}

/// The token's TSTInfo, its encoded content, and its signed data.
fn parts(token: &[u8]) -> Result<(TstInfo, Vec<u8>, cms::signed_data::SignedData), TsaError> {
    let ci = cms::content_info::ContentInfo::from_der(token).map_err(malformed)?;
    if ci.content_type != SIGNED_DATA {
        return Err(malformed("not CMS signed data"));
    }
    let sd: cms::signed_data::SignedData = ci.content.decode_as().map_err(malformed)?;
    let content = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| malformed("no content"))?
        .decode_as::<OctetString>()
        .map_err(malformed)?
        .as_bytes()
        .to_vec();
    let tst = TstInfo::from_der(&content).map_err(malformed)?;
    Ok((tst, content, sd))
}

/// Checks `token` against the hash it should cover and, with the TSA's certificate (PEM), its
/// signature.
pub fn check(token: &[u8], sha256_hex: &str, cert_pem: Option<&str>) -> Result<Stamp, TsaError> {
    let (tst, content, sd) = parts(token)?;
    let stamp = stamp_of(&tst);
    if stamp.covers != sha256_hex.to_ascii_lowercase() {
        return Err(TsaError::OtherBytes {
            covers: stamp.covers,
            wanted: sha256_hex.to_string(),
        });
    }
    if let Some(pem) = cert_pem {
        verify_signature(&sd, &content, pem)?;
    }
    Ok(stamp)
}

/// The signer's signature over its signed attributes, whose message digest is the content's.
fn verify_signature(
    sd: &cms::signed_data::SignedData,
    content: &[u8],
    pem: &str,
) -> Result<(), TsaError> {
    use der::DecodePem;
    let cert = x509_cert::Certificate::from_pem(pem.as_bytes())
        .map_err(|e| TsaError::Certificate(e.to_string()))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let key = spki.subject_public_key.raw_bytes();
    let bad = |why: &str| TsaError::BadSignature(why.to_string());
    let signer = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| bad("no signer"))?;
    let digest_oid = signer.digest_alg.oid;
    let digest = digest_of(digest_oid, content).ok_or_else(|| bad("an unknown digest"))?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("no signed attributes"))?;
    let listed = attrs
        .iter()
        .find(|a| a.oid == MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| bad("no message digest"))?;
    if listed.as_bytes() != digest.as_slice() {
        return Err(bad("the signed digest is not that of the token's content"));
    }
    let signed = attrs.to_der().map_err(malformed)?;
    let alg = algorithm(spki.algorithm.oid.to_string().as_str(), digest_oid)
        .ok_or_else(|| bad("an unknown signature algorithm"))?;
    aws_lc_rs::signature::UnparsedPublicKey::new(alg, key)
        .verify(&signed, signer.signature.as_bytes())
        .map_err(|_| bad("the signature is not the certificate key's"))
}

/// The digest of `bytes` by the algorithm `oid` names.
fn digest_of(oid: der::oid::ObjectIdentifier, bytes: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    match oid {
        o if o == SHA256 => Some(sha2::Sha256::digest(bytes).to_vec()),
        o if o == SHA384 => Some(sha2::Sha384::digest(bytes).to_vec()),
        o if o == SHA512 => Some(sha2::Sha512::digest(bytes).to_vec()),
        _ => None,
    }
}

/// The verification algorithm for a key type (its SPKI algorithm) and a digest.
fn algorithm(
    key: &str,
    digest: der::oid::ObjectIdentifier,
) -> Option<&'static dyn aws_lc_rs::signature::VerificationAlgorithm> {
    use aws_lc_rs::signature as s;
    let rsa = key == "1.2.840.113549.1.1.1";
    let ec = key == "1.2.840.10045.2.1";
    Some(match () {
        _ if rsa && digest == SHA256 => &s::RSA_PKCS1_2048_8192_SHA256,
        _ if rsa && digest == SHA384 => &s::RSA_PKCS1_2048_8192_SHA384,
        _ if rsa && digest == SHA512 => &s::RSA_PKCS1_2048_8192_SHA512,
        _ if ec && digest == SHA256 => &s::ECDSA_P256_SHA256_ASN1,
        _ if ec && digest == SHA384 => &s::ECDSA_P384_SHA384_ASN1,
        _ => return None,
    })
}

/// Bytes of a hex string.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
