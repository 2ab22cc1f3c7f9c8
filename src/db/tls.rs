//! TLS to the database through rustls, with libpq's `sslmode` meanings: `disable` (plain),
//! `prefer` (TLS when the server offers it), `require` (TLS, certificate not checked unless a
//! root certificate is given), `verify-ca` (the certificate chains to the root) and
//! `verify-full` (… and names the host). Root certificates come from `sslrootcert=FILE`, else
//! `~/.postgresql/root.crt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it (libpq's default).
    #[default]
    Prefer,
    /// TLS or nothing.
    Require,
    /// TLS with a certificate that chains to the root.
    VerifyCa,
    /// TLS with a certificate that chains to the root and names the host.
    VerifyFull,
}

impl SslMode {
    /// Reads an `sslmode` value.
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// What tokio-postgres negotiates.
    pub fn negotiation(self) -> postgres::config::SslMode {
        match self {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        }
    }
}

/// The certificate check of every mode: no chain check without roots (libpq's `require`:
/// any certificate, even an old self-signed X.509 version 1 one), or the chain, and the host
/// name when `names` (`verify-full`). Either way the server must prove it holds the key of the
/// certificate it sent.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    names: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// Why a certificate that cannot be verified was refused, in words (webpki names it
/// `UnsupportedCertVersion`).
const VERSION_1: &str = "the server's certificate is an X.509 version 1 certificate, which \
cannot be verified (sslmode verify-ca and verify-full need a version 3 certificate; \
sslmode=require encrypts without verifying, as libpq does)";

/// The certificate's public key (as its SubjectPublicKeyInfo), read from any X.509 version.
fn public_key(
    cert: &CertificateDer<'_>,
) -> Result<SubjectPublicKeyInfoDer<'static>, rustls::Error> {
    use x509_cert::der::{Decode, Encode};
    let bad = |e: x509_cert::der::Error| {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
            Arc::new(e),
        )))
    };
    let c = x509_cert::Certificate::from_der(cert.as_ref()).map_err(bad)?;
    let spki = c
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(bad)?;
    Ok(SubjectPublicKeyInfoDer::from(spki))
}

/// Checks a TLS 1.2 handshake's signature with the certificate's key, whatever its X.509
/// version (webpki's own check parses version 3 certificates only).
fn tls12_signed_by_key(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &rustls::crypto::WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let spki = public_key(cert)?;
    let key = webpki::RawPublicKeyEntity::try_from(&spki)
        .map_err(|e| rustls::Error::General(format!("the server's key: {e}")))?;
    let possible = algs
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == dss.scheme)
        .map_or(&[][..], |(_, a)| *a);
    for alg in possible {
        match key.verify_signature(*alg, message, dss.signature()) {
            Ok(()) => return Ok(HandshakeSignatureValid::assertion()),
            Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => continue,
            Err(_) => {
                return Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadSignature,
                ));
            }
        }
    }
    Err(rustls::Error::PeerMisbehaved(
        rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
    ))
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(e)))
                if e.0.downcast_ref::<webpki::Error>()
                    == Some(&webpki::Error::UnsupportedCertVersion) =>
            {
                Err(rustls::Error::General(VERSION_1.into()))
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        tls12_signed_by_key(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature_with_raw_key(message, &public_key(cert)?, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The root certificate file: `sslrootcert`, else `~/.postgresql/root.crt` if it exists.
pub fn root_file(given: Option<&Path>) -> Option<PathBuf> {
    given.map(Path::to_path_buf).or_else(|| {
        dirs::home_dir()
            .map(|h| h.join(".postgresql").join("root.crt"))
            .filter(|p| p.is_file())
    })
}

/// Why TLS could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// The TLS library refused its own settings.
    #[error("{0}")]
    Setup(String),
    /// The root certificate file cannot be used.
    #[error("{file}: {message}")]
    Root {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// Verifying asked for without a root certificate.
    #[error("sslmode verify-ca and verify-full need a root certificate: add sslrootcert=FILE")]
    NoRoot,
}

/// The rustls configuration for a mode and root file.
pub fn client_config(mode: SslMode, root: Option<&Path>) -> Result<ClientConfig, TlsError> {
    let setup = |e: rustls::Error| TlsError::Setup(e.to_string());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(setup)?;
    let roots = match root {
        Some(p) => {
            let bad = |e: &dyn std::fmt::Display| TlsError::Root {
                file: p.display().to_string(),
                message: e.to_string(),
            };
            let mut store = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(p).map_err(|e| bad(&e))?;
            for c in certs {
                store.add(c.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            Some(Arc::new(store))
        }
        None => None,
    };
    let verifier_error = |e: rustls::client::VerifierBuilderError| TlsError::Setup(e.to_string());
    let chain = match (mode, roots) {
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => return Err(TlsError::NoRoot),
        (_, Some(r)) => Some(
            WebPkiServerVerifier::builder_with_provider(r, provider.clone())
                .build()
                .map_err(verifier_error)?,
        ),
        (_, None) => None,
    };
    let verifier = Arc::new(Verifier {
        chain,
        names: mode == SslMode::VerifyFull,
        provider,
    });
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}
