//! What went wrong when a transport got no response, said in one line.

use core::fmt;
use std::error::Error as StdError;
use std::io;

use crate::error::BoxError;

/// What kind of failure kept a transport from getting a response.
///
/// The transports of this crate classify their failures with it, and so can
/// yours ([`TransportError::classify`] reads the usual error types:
/// `std::io::Error`, hyper's, hyper-util's, rustls's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name did not resolve.
    Dns,
    /// No connection could be opened: refused, unreachable, reset while
    /// connecting.
    Connect,
    /// The HTTP proxy could not be reached or would not open a tunnel.
    Proxy,
    /// The TLS handshake failed: an untrusted or expired certificate, a
    /// name mismatch, no common protocol.
    Tls,
    /// The transport's own time limit ran out (connecting, or waiting for
    /// the answer).
    Timeout,
    /// The connection was reset or closed before the whole response arrived.
    ConnectionClosed,
    /// The response body is over the transport's size limit.
    BodyTooLarge,
    /// The peer did not speak valid HTTP.
    Protocol,
    /// The request cannot be sent by this transport at all (an unsupported
    /// scheme, a client built without TLS for an `https://` URL...).
    Unsupported,
    /// Anything else.
    Other,
}

/// Why a transport got no response: the [kind](TransportErrorKind) of
/// failure, the server it was talking to, and the underlying error.
///
/// Its `Display` is one line that names what happened, where, and the root
/// cause, without repeating itself:
///
/// ```
/// use attio_webhooks::{TransportError, transport::TransportErrorKind};
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// let error = TransportError::from_source(refused).with_server("127.0.0.1:9");
/// assert_eq!(error.kind(), TransportErrorKind::Connect);
/// assert!(error.to_string().starts_with("could not connect to 127.0.0.1:9: "));
/// assert!(!error.request_may_have_been_sent());
/// ```
///
/// The full chain stays available through [`std::error::Error::source`].
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    while_connecting: bool,
    server: Option<String>,
    body_limit: Option<(u64, Option<u64>)>,
    source: Option<BoxError>,
}

impl TransportError {
    /// An error of `kind` caused by `source`.
    pub fn new(kind: TransportErrorKind, source: impl Into<BoxError>) -> Self {
        Self::bare(kind).with_source(source.into())
    }

    /// An error classified from its `source` with [`TransportError::classify`].
    /// A `TransportError` inside the chain (from a connector, say) lends
    /// its server and body limit.
    pub fn from_source(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        let (kind, while_connecting) = classify_chain(&*source);
        let (server, body_limit) = chain(&*source)
            .find_map(|e| e.downcast_ref::<TransportError>())
            .map_or((None, None), |inner| {
                (inner.server.clone(), inner.body_limit)
            });
        let mut error = Self::bare(kind).with_source(source);
        error.while_connecting |= while_connecting;
        error.server = server;
        error.body_limit = body_limit;
        error
    }

    /// A response body over `limit` bytes; `declared` is the length its
    /// `Content-Length` announced, when that is how it was caught.
    pub fn body_too_large(limit: u64, declared: Option<u64>) -> Self {
        let mut error = Self::bare(TransportErrorKind::BodyTooLarge);
        error.body_limit = Some((limit, declared));
        error
    }

    fn bare(kind: TransportErrorKind) -> Self {
        Self {
            kind,
            while_connecting: matches!(
                kind,
                TransportErrorKind::Dns
                    | TransportErrorKind::Connect
                    | TransportErrorKind::Proxy
                    | TransportErrorKind::Tls
            ),
            server: None,
            body_limit: None,
            source: None,
        }
    }

    fn with_source(mut self, source: BoxError) -> Self {
        self.source = Some(source);
        self
    }

    /// Names the server (`host:port`) the transport was talking to.
    pub fn with_server(mut self, server: impl Into<String>) -> Self {
        self.server = Some(server.into());
        self
    }

    /// Names the server unless the error already names one.
    #[cfg(any(feature = "hyper-transport", feature = "tower"))]
    pub(crate) fn or_server(self, server: &str) -> Self {
        if self.server.is_some() {
            self
        } else {
            self.with_server(server)
        }
    }

    /// Marks the failure as one that happened while connecting, before
    /// any byte of the request was written (a connect timeout, say).
    pub fn while_connecting(mut self) -> Self {
        self.while_connecting = true;
        self
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The server (`host:port`) the transport was talking to, if known.
    pub fn server(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// The body limit that was exceeded, for [`TransportErrorKind::BodyTooLarge`].
    pub fn body_limit(&self) -> Option<u64> {
        self.body_limit.map(|(limit, _)| limit)
    }

    /// `false` when the failure is known to have happened before the
    /// request was written (DNS, refused connection, TLS handshake, proxy
    /// tunnel, connect timeout), so the server cannot have acted on it.
    /// `true` when it may have reached the server.
    pub fn request_may_have_been_sent(&self) -> bool {
        !self.while_connecting
    }

    /// Whether another attempt could succeed: not for a body over the
    /// limit, a TLS failure (an untrusted certificate stays untrusted) or
    /// a request the transport cannot send at all.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::BodyTooLarge
                | TransportErrorKind::Tls
                | TransportErrorKind::Unsupported
        )
    }

    /// Reads the kind of failure from an error chain: an `io::Error`'s
    /// kind (refused, reset, timed out...), a rustls error (TLS), hyper's
    /// and hyper-util's errors (DNS, connect, proxy tunnel, closed
    /// connection, parse errors). [`TransportErrorKind::Other`] when
    /// nothing in the chain says.
    ///
    /// ```
    /// use attio_webhooks::{TransportError, transport::TransportErrorKind};
    /// let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    /// assert_eq!(TransportError::classify(&reset), TransportErrorKind::ConnectionClosed);
    /// ```
    pub fn classify(error: &(dyn StdError + 'static)) -> TransportErrorKind {
        classify_chain(error).0
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TransportErrorKind as K;
        let server = self.server.as_deref().unwrap_or("the server");
        match self.kind {
            K::Dns => write!(f, "could not resolve {server}")?,
            K::Connect => write!(f, "could not connect to {server}")?,
            K::Proxy => write!(f, "could not reach {server}")?,
            K::Tls => write!(f, "TLS with {server} failed")?,
            K::Timeout if self.while_connecting => write!(f, "connecting to {server} timed out")?,
            K::Timeout => write!(f, "{server} did not answer in time")?,
            K::ConnectionClosed => write!(
                f,
                "the connection to {server} closed before the response was complete"
            )?,
            K::BodyTooLarge => {
                let (limit, declared) = self.body_limit.unwrap_or((0, None));
                write!(
                    f,
                    "the response from {server} is over the {limit}-byte limit"
                )?;
                if let Some(declared) = declared {
                    write!(f, " (Content-Length: {declared})")?;
                }
            }
            K::Protocol => write!(f, "{server} sent an invalid HTTP response")?,
            K::Unsupported => write!(f, "the request to {server} cannot be sent")?,
            K::Other => write!(f, "the exchange with {server} failed")?,
        }
        if let Some(source) = &self.source {
            let root = root_cause(&**source);
            let root = root.to_string();
            if !root.is_empty() {
                write!(f, ": {root}")?;
            }
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// What an [`Error`](crate::Error) says about the transport behind it.
/// (These live beside [`TransportError`] so that `error` needs nothing
/// from `transport`: the transport depends on the error, not both ways.)
impl crate::Error {
    /// An attempt timed out, the whole call ran past its deadline, or the
    /// transport's own time limit ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Deadline(_))
            || self
                .transport_error()
                .is_some_and(|e| e.kind() == TransportErrorKind::Timeout)
    }

    /// The transport's error, when it is a [`TransportError`] (as
    /// with every transport of this crate).
    pub fn transport_error(&self) -> Option<&TransportError> {
        match self {
            Self::Transport(e) => e.downcast_ref(),
            _ => None,
        }
    }

    /// No connection could be made (DNS, refused, unreachable, TLS, proxy):
    /// the request never reached Attio.
    pub fn is_connect(&self) -> bool {
        self.transport_error()
            .is_some_and(|e| !e.request_may_have_been_sent())
    }
}

impl From<TransportError> for crate::Error {
    fn from(error: TransportError) -> Self {
        crate::Error::Transport(Box::new(error))
    }
}

/// The next error down a chain. `io::Error::source` skips the error it
/// wraps (it returns that error's own source), so look inside it instead.
fn next<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    if let Some(io) = error.downcast_ref::<io::Error>() {
        if let Some(inner) = io.get_ref() {
            return Some(inner);
        }
    }
    error.source()
}

/// The errors of a chain, outermost first; bounded, in case a chain loops.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |e: &&'a (dyn StdError + 'static)| next(*e)).take(32)
}

/// The deepest error of a chain: the most specific message.
fn root_cause<'a>(error: &'a (dyn StdError + 'static)) -> &'a (dyn StdError + 'static) {
    chain(error).last().unwrap_or(error)
}

/// The kind of failure, and whether it happened while connecting.
fn classify_chain(error: &(dyn StdError + 'static)) -> (TransportErrorKind, bool) {
    use TransportErrorKind as K;
    let mut connecting = false;
    for e in chain(error) {
        connecting |= is_connect_error(e);
        if let Some(kind) = specific_kind(e) {
            let connecting = connecting || matches!(kind, K::Dns | K::Connect | K::Proxy | K::Tls);
            // A connection reset during the handshake is a failed connect.
            let kind = match kind {
                K::ConnectionClosed if connecting => K::Connect,
                kind => kind,
            };
            return (kind, connecting);
        }
    }
    if connecting {
        (K::Connect, true)
    } else {
        (K::Other, false)
    }
}

/// The kind one error of a chain settles, if it settles one.
fn specific_kind(error: &(dyn StdError + 'static)) -> Option<TransportErrorKind> {
    use TransportErrorKind as K;
    if let Some(known) = error.downcast_ref::<TransportError>() {
        return Some(known.kind);
    }
    #[cfg(feature = "hyper-transport")]
    if error.is::<rustls::Error>() {
        return Some(K::Tls);
    }
    #[cfg(feature = "hyper-transport")]
    if let Some(hyper) = error.downcast_ref::<hyper::Error>() {
        if hyper.is_timeout() {
            return Some(K::Timeout);
        }
        if hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed() {
            return Some(K::ConnectionClosed);
        }
        if hyper.is_parse() || hyper.is_parse_status() {
            return Some(K::Protocol);
        }
    }
    if let Some(io) = error.downcast_ref::<io::Error>() {
        use io::ErrorKind as Io;
        let kind = match io.kind() {
            Io::ConnectionRefused
            | Io::AddrNotAvailable
            | Io::NotConnected
            | Io::HostUnreachable
            | Io::NetworkUnreachable
            | Io::NetworkDown => Some(K::Connect),
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                Some(K::ConnectionClosed)
            }
            Io::TimedOut => Some(K::Timeout),
            _ => None,
        };
        if kind.is_some() {
            return kind;
        }
    }
    // hyper-util's connector errors are private types; their messages are
    // the only thing that tells a failed lookup apart.
    if error.source().is_some() && error.to_string() == "dns error" {
        return Some(K::Dns);
    }
    None
}

/// hyper-util's client marks failures of its connector, and a
/// `TransportError` inside a chain knows whether it was connecting.
fn is_connect_error(error: &(dyn StdError + 'static)) -> bool {
    if let Some(inner) = error.downcast_ref::<TransportError>() {
        return inner.while_connecting;
    }
    #[cfg(feature = "hyper-transport")]
    if let Some(e) = error.downcast_ref::<hyper_util::client::legacy::Error>() {
        return e.is_connect();
    }
    let _ = error;
    false
}

#[cfg(any(feature = "hyper-transport", feature = "tower", feature = "reqwest"))]
/// The `host:port` a request goes to, for error messages.
pub(crate) fn server_of(uri: &http::Uri) -> String {
    let host = uri.host().unwrap_or("the server");
    match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => match uri.scheme_str() {
            Some("https") => format!("{host}:443"),
            Some("http") => format!("{host}:80"),
            _ => host.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "hyper-transport", feature = "tower", feature = "reqwest"))]
    #[test]
    fn servers_are_named_with_their_port() {
        assert_eq!(
            server_of(&"https://api.attio.com/v2".parse().unwrap()),
            "api.attio.com:443"
        );
        assert_eq!(
            server_of(&"http://127.0.0.1:8080/".parse().unwrap()),
            "127.0.0.1:8080"
        );
    }

    #[derive(Debug)]
    struct Wrapper(&'static str, io::Error);
    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn display_is_one_line_with_the_root_cause_once() {
        let inner = io::Error::new(io::ErrorKind::ConnectionRefused, "refused by peer");
        let error = TransportError::from_source(Wrapper("tcp connect error", inner))
            .with_server("api.attio.com:443");
        assert_eq!(error.kind(), TransportErrorKind::Connect);
        assert_eq!(
            error.to_string(),
            "could not connect to api.attio.com:443: refused by peer"
        );
    }

    #[test]
    fn dns_is_told_apart_by_hyper_utils_message() {
        let lookup = io::Error::other("failed to lookup address information");
        let error = TransportError::from_source(Wrapper("dns error", lookup));
        assert_eq!(error.kind(), TransportErrorKind::Dns);
        assert!(!error.request_may_have_been_sent());
    }

    #[test]
    fn io_errors_wrapped_in_io_errors_are_looked_into() {
        let reset = io::Error::other(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(
            TransportError::classify(&reset),
            TransportErrorKind::ConnectionClosed
        );
        let error = TransportError::from_source(reset);
        assert!(error.request_may_have_been_sent());
        assert!(error.is_retryable());
    }

    #[test]
    fn body_too_large_says_the_declared_length() {
        let error = TransportError::body_too_large(1024, Some(104_857_600));
        assert_eq!(
            error.to_string(),
            "the response from the server is over the 1024-byte limit (Content-Length: 104857600)"
        );
        assert!(!error.is_retryable());
        assert_eq!(error.body_limit(), Some(1024));
    }

    #[test]
    fn unknown_chains_are_other() {
        let error = TransportError::from_source("something odd");
        assert_eq!(error.kind(), TransportErrorKind::Other);
        assert_eq!(
            error.to_string(),
            "the exchange with the server failed: something odd"
        );
    }
}
