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
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
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

/// The certificate check of `require` and `verify-ca`: no chain check without roots (libpq's
/// `require`), or the chain but not the host name (`verify-ca`). Either way the server must
/// prove it holds the certificate's key.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
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
            )) => Ok(ServerCertVerified::assertion()),
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
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
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => return Err(TlsError::NoRoot),
        (SslMode::VerifyFull, Some(r)) => WebPkiServerVerifier::builder_with_provider(r, provider)
            .build()
            .map_err(verifier_error)?,
        (_, Some(r)) => Arc::new(Verifier {
            chain: Some(
                WebPkiServerVerifier::builder_with_provider(r, provider.clone())
                    .build()
                    .map_err(verifier_error)?,
            ),
            provider,
        }),
        (_, None) => Arc::new(Verifier {
            chain: None,
            provider,
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}
