//! Certificates for `https://` receivers on loopback, so that a delivery
//! test keeps Attio's https-only target policy.
//!
//! Attio delivers only to `https://` target URLs. [`LoopbackCertificate::mint`]
//! makes a throwaway root and a certificate it signs for `localhost`,
//! `127.0.0.1` and `::1`. The receiver serves with the certificate
//! ([`LoopbackCertificate::server_config`] for rustls, or the PEM files for
//! any other server); the fake is handed the root
//! ([`crate::FakeAttioBuilder::trust_delivery_root`], or `fake-attio
//! --trust-delivery-root root.pem`) and trusts that root alone.
//!
//! A receiver that serves https on 127.0.0.1 with tokio-rustls and hyper,
//! a fake built with Attio's https-only policy, and one verified delivery:
//!
//! ```
//! use attio_webhooks::receive::{Actor, ActorType, Event, Verifier};
//! use attio_webhooks::{EventType, Subscription};
//! use attio_webhooks_testkit::{tls::LoopbackCertificate, delivery::DeliveryOutcome, FakeAttio};
//! use http_body_util::{BodyExt, Full};
//! use hyper::{body::Incoming, service::service_fn, Request, Response};
//! use hyper_util::rt::TokioIo;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cert = LoopbackCertificate::mint();
//!
//! // The receiver: TLS with the minted certificate, then HTTP/1.1; it hands
//! // each request's headers and body to the test and answers 200.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let target_url = format!("https://{}/attio", listener.local_addr().unwrap());
//! let acceptor = tokio_rustls::TlsAcceptor::from(cert.server_config());
//! let (received, mut deliveries) = tokio::sync::mpsc::unbounded_channel();
//! tokio::spawn(async move {
//!     loop {
//!         let (tcp, _) = listener.accept().await.unwrap();
//!         let Ok(tls) = acceptor.accept(tcp).await else { continue };
//!         let received = received.clone();
//!         let service = service_fn(move |request: Request<Incoming>| {
//!             let received = received.clone();
//!             async move {
//!                 let (parts, body) = request.into_parts();
//!                 let body = body.collect().await?.to_bytes();
//!                 let _ = received.send((parts.headers, body));
//!                 Ok::<_, hyper::Error>(Response::new(Full::new(bytes::Bytes::new())))
//!             }
//!         });
//!         tokio::spawn(
//!             hyper::server::conn::http1::Builder::new()
//!                 .serve_connection(TokioIo::new(tls), service),
//!         );
//!     }
//! });
//!
//! // The fake: Attio's https-only policy (the default), trusting the root.
//! let fake = FakeAttio::builder().trust_delivery_root(cert.root()).build();
//! let created = fake
//!     .client()
//!     .create_webhook(&target_url, vec![Subscription::new(EventType::NoteCreated)])
//!     .await
//!     .unwrap();
//! let actor = Actor::new(ActorType::System, None);
//! fake.emit(Event::new(EventType::NoteCreated, fake.workspace_id(), actor));
//! fake.settle_deliveries().await;
//! assert_eq!(
//!     fake.delivery_log().into_vec()[0].outcome,
//!     DeliveryOutcome::Delivered { status: 200 }
//! );
//!
//! // What the receiver got verifies with the webhook's secret.
//! let (headers, body) = deliveries.recv().await.unwrap();
//! let delivery = Verifier::new(created.secret).verify(&headers, &body).unwrap();
//! assert_eq!(delivery.into_delivery().events.len(), 1);
//! # }
//! ```

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{pem::PemObject, PrivatePkcs8KeyDer};
pub use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The names a [`LoopbackCertificate`] is valid for: what a loopback
/// receiver's URL can have as its host.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A throwaway root and a server certificate it signed for
/// [`LOOPBACK_NAMES`], with the certificate's private key.
///
/// Each [`LoopbackCertificate::mint`] makes a new root with a new key
/// (ECDSA P-256) and its own name, so a fake that trusts one root refuses
/// a receiver that presents another's certificate ("unknown issuer").
/// Nothing is written to disk; the certificates do not expire in any
/// test's lifetime (rcgen's default validity, 1975 to 4096).
///
/// ```
/// use attio_webhooks_testkit::tls::LoopbackCertificate;
/// let cert = LoopbackCertificate::mint();
/// assert!(cert.root_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(cert.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(cert.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
/// assert_ne!(cert.root(), LoopbackCertificate::mint().root());
/// ```
pub struct LoopbackCertificate {
    root: CertificateDer<'static>,
    root_pem: String,
    cert: CertificateDer<'static>,
    cert_pem: String,
    key: PrivatePkcs8KeyDer<'static>,
    key_pem: String,
}

/// Names the certificates, never the key.
impl std::fmt::Debug for LoopbackCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackCertificate")
            .field("names", &LOOPBACK_NAMES)
            .field("root_der_bytes", &self.root.len())
            .field("cert_der_bytes", &self.cert.len())
            .finish_non_exhaustive()
    }
}

impl LoopbackCertificate {
    /// Mints a new root and a certificate it signs for [`LOOPBACK_NAMES`].
    ///
    /// # Panics
    ///
    /// Only if the system's random source fails while generating the keys.
    pub fn mint() -> Self {
        let root_key = KeyPair::generate().expect("generating an ECDSA P-256 key");
        let mut root_params = CertificateParams::default();
        // A name of its own: a client that trusts another minted root
        // answers "unknown issuer", not a bad signature from a namesake.
        root_params.distinguished_name.push(
            DnType::CommonName,
            format!("attio-webhooks-testkit test root {}", uuid::Uuid::new_v4()),
        );
        root_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        root_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = root_params
            .self_signed(&root_key)
            .expect("the root's fixed parameters are valid");
        let issuer = Issuer::new(root_params, root_key);

        let key = KeyPair::generate().expect("generating an ECDSA P-256 key");
        let mut params = CertificateParams::new(LOOPBACK_NAMES.map(str::to_owned).to_vec())
            .expect("the loopback names are valid subject alternative names");
        params
            .distinguished_name
            .push(DnType::CommonName, LOOPBACK_NAMES[0]);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &issuer)
            .expect("the certificate's fixed parameters are valid");

        Self {
            root_pem: root.pem(),
            root: root.der().clone(),
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key_pem: key.serialize_pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    /// The root, DER: what to hand the fake
    /// ([`crate::FakeAttioBuilder::trust_delivery_root`]) or any client
    /// that should trust the receiver.
    pub fn root(&self) -> CertificateDer<'static> {
        self.root.clone()
    }

    /// The root, PEM: for `fake-attio --trust-delivery-root FILE.pem`
    /// (write it to a file) or a client in another language.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The receiver's certificate, DER (signed by the root, valid for
    /// [`LOOPBACK_NAMES`]).
    pub fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    /// The receiver's certificate, PEM, for servers configured with files.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The receiver's private key (PKCS #8, DER).
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    /// The receiver's private key, PEM (`PRIVATE KEY`, PKCS #8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// A rustls server config that presents the certificate: TLS 1.2 and
    /// 1.3 on ring, no client authentication, no ALPN (so clients speak
    /// HTTP/1.1, as the fake's deliveries do). Serve with
    /// `tokio_rustls::TlsAcceptor::from(config)`.
    ///
    /// ```
    /// use attio_webhooks_testkit::tls::LoopbackCertificate;
    /// let config = LoopbackCertificate::mint().server_config();
    /// assert!(config.alpn_protocols.is_empty());
    /// ```
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = ring_provider();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports rustls' default protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![self.cert()], self.key())
            .expect("the minted key matches the minted certificate");
        Arc::new(config)
    }
}

/// Every certificate in PEM text (other PEM sections, such as keys, are
/// skipped), checked to be usable as a trusted root: what
/// `fake-attio --trust-delivery-root` reads.
///
/// ```
/// use attio_webhooks_testkit::tls::{roots_from_pem, LoopbackCertificate, RootsFromPemError};
/// let cert = LoopbackCertificate::mint();
/// assert_eq!(roots_from_pem(cert.root_pem().as_bytes()).unwrap(), [cert.root()]);
/// assert!(matches!(
///     roots_from_pem(cert.key_pem().as_bytes()),
///     Err(RootsFromPemError::NoCertificate)
/// ));
/// ```
pub fn roots_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, RootsFromPemError> {
    let roots = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RootsFromPemError::Pem(e.to_string()))?;
    if roots.is_empty() {
        return Err(RootsFromPemError::NoCertificate);
    }
    for (i, root) in roots.iter().enumerate() {
        rustls::RootCertStore::empty()
            .add(root.clone())
            .map_err(|e| RootsFromPemError::NotARoot {
                index: i,
                reason: e.to_string(),
            })?;
    }
    Ok(roots)
}

/// Why PEM text gave no trusted roots.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootsFromPemError {
    /// The text is not valid PEM.
    #[error("not valid PEM: {0}")]
    Pem(String),
    /// Valid PEM, but without a `CERTIFICATE` section.
    #[error("no CERTIFICATE section in the PEM text")]
    NoCertificate,
    /// A certificate that cannot be a trusted root (not DER X.509 that
    /// rustls can parse).
    #[error("certificate {index} (from 0) cannot be a root: {reason}")]
    NotARoot {
        /// Its position among the PEM text's certificates.
        index: usize,
        /// rustls' reason.
        reason: String,
    },
}

/// rustls' *ring* provider, shared by the fake's TLS client (deliveries)
/// and the loopback server config: rustls 0.23.48 deprecates
/// `crypto::ring::default_provider` (no post-quantum key exchange) and 0.23
/// offers no other way to name *ring*, which this crate's `tls` feature
/// promises (no C toolchain). One allowance, so builds against any 0.23
/// stay warning-free.
#[allow(deprecated)]
pub(crate) fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
