//! One attempt on the wire: which targets the fake contacts, and the POST.

use std::time::Duration;

use attio_webhooks::{model::TargetUrlPolicy, receive::signature, TransportError};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use super::attempt::{DeliveryOutcome, DELIVERY_USER_AGENT};
use super::message::Job;

#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;

/// The fake's delivery client: pooled, HTTP/1.1, plain or (with the `tls`
/// feature) over TLS trusting only [`DeliveryRoots`].
pub(crate) type Sender = HyperClient<Connector, Full<Bytes>>;

/// The roots the fake trusts for `https://` deliveries: only those the test
/// handed it, never the system's, so that the fake cannot become a way to
/// reach real hosts. None by default, and then https targets are refused.
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "tls"), derive(Default))]
pub(crate) struct DeliveryRoots {
    #[cfg(feature = "tls")]
    store: rustls::RootCertStore,
}

#[cfg(feature = "tls")]
impl Default for DeliveryRoots {
    fn default() -> Self {
        Self {
            store: rustls::RootCertStore::empty(),
        }
    }
}

impl DeliveryRoots {
    /// Trusts `root`, or says why it cannot be a root.
    #[cfg(feature = "tls")]
    pub(crate) fn add(
        &mut self,
        root: rustls::pki_types::CertificateDer<'_>,
    ) -> Result<(), rustls::Error> {
        self.store.add(root)
    }

    /// Why an `https://` target cannot be delivered to, whatever its host.
    #[cfg(feature = "tls")]
    fn https_refusal(&self) -> Option<&'static str> {
        self.store.is_empty().then_some(
            "the fake trusts no root for https:// targets: hand it the root of the receiver's \
             certificate with FakeAttioBuilder::trust_delivery_root (fake-attio: \
             --trust-delivery-root FILE.pem or FAKE_ATTIO_TRUST_DELIVERY_ROOT); it never \
             trusts the system's roots",
        )
    }

    /// Why an `https://` target cannot be delivered to, whatever its host.
    #[cfg(not(feature = "tls"))]
    fn https_refusal(&self) -> Option<&'static str> {
        Some(
            "this build of the testkit speaks no TLS (its `tls` feature is off): it only \
             delivers to http:// targets",
        )
    }
}

/// Which targets one fake delivers to: its target URL policy, and the roots
/// it trusts for `https://`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Targets {
    pub(crate) policy: TargetUrlPolicy,
    pub(crate) roots: DeliveryRoots,
}

pub(crate) fn sender(targets: &Targets) -> Sender {
    #[cfg(feature = "tls")]
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(client_config(&targets.roots))
        .https_or_http()
        .enable_http1()
        .build();
    #[cfg(not(feature = "tls"))]
    let connector = {
        let _ = targets;
        HttpConnector::new()
    };
    HyperClient::builder(TokioExecutor::new()).build(connector)
}

/// TLS 1.2 and 1.3 with ring, trusting `roots` and nothing else.
#[cfg(feature = "tls")]
fn client_config(roots: &DeliveryRoots) -> rustls::ClientConfig {
    let provider = crate::tls::ring_provider();
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls' default protocol versions")
        .with_root_certificates(roots.store.clone())
        .with_no_client_auth()
}

/// Why the fake will not contact `target_url`, if it will not. The URL
/// must pass the fake's target URL policy now (not only when the webhook
/// was created); its host must be one the fake connects to, loopback or
/// a host the policy allows plain `http://` to (for `http://` the policy
/// itself says so; an `https://` host is held to the same list, so the
/// fake never connects beyond the hosts a test named); `https://` needs
/// a trusted root; and the port must not be one the fake listens on.
pub(crate) fn refusal(target_url: &str, targets: &Targets, own_ports: &[u16]) -> Option<String> {
    if let Err(e) = targets.policy.check(target_url) {
        return Some(format!("the fake's target URL policy refuses it: {e}"));
    }
    let (rest, default_port) = if let Some(rest) = target_url.strip_prefix("https://") {
        if let Some(reason) = targets.roots.https_refusal() {
            return Some(reason.to_owned());
        }
        if !may_connect(rest, &targets.policy) {
            return Some(
                "the fake only connects to loopback hosts or hosts named by \
                 allow_http_targets_to, over https:// as over http://"
                    .to_owned(),
            );
        }
        (rest, 443)
    } else if let Some(rest) = target_url.strip_prefix("http://") {
        (rest, 80)
    } else {
        return Some("the fake only delivers to http:// and https:// targets".to_owned());
    };
    let port = target_url
        .parse::<http::Uri>()
        .ok()
        .map(|uri| uri.port_u16().unwrap_or(default_port));
    match port {
        None => Some(format!("not a valid URL: {rest}")),
        Some(port) if own_ports.contains(&port) => Some(format!(
            "the target is the fake's own listening port {port}"
        )),
        Some(_) => None,
    }
}

/// Whether the fake may open a connection to the host of `rest` (a URL
/// after its scheme): the hosts the policy allows plain `http://` to, and
/// loopback under any policy. The policy's own host rule decides, asked
/// about the same URL over `http://`.
fn may_connect(rest: &str, policy: &TargetUrlPolicy) -> bool {
    let as_http = format!("http://{rest}");
    match policy {
        TargetUrlPolicy::AllowHttpTo(_) => policy.check(&as_http).is_ok(),
        _ => TargetUrlPolicy::AllowLoopbackHttp.check(&as_http).is_ok(),
    }
}

/// POSTs the job's signed body once and says what happened.
pub(crate) async fn post(sender: &Sender, job: &Job, timeout: Duration) -> DeliveryOutcome {
    let request = http::Request::post(job.target_url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, DELIVERY_USER_AGENT)
        .header(signature::SIGNATURE_HEADER, job.signature.as_str())
        .header(signature::X_SIGNATURE_HEADER, job.signature.as_str())
        .header("idempotency-key", job.key.as_str())
        .body(Full::new(job.body.clone()));
    let request = match request {
        Ok(request) => request,
        Err(e) => {
            return DeliveryOutcome::Failed {
                status: None,
                error: Some(format!("invalid target: {e}")),
            }
        }
    };
    let server = request.uri().authority().map(ToString::to_string);
    match tokio::time::timeout(timeout, sender.request(request)).await {
        Err(_) => DeliveryOutcome::Failed {
            status: None,
            error: Some(format!("no answer within {timeout:?}")),
        },
        Ok(Err(e)) => {
            // The core's reading of a failed exchange: what happened, where,
            // and the root cause, on one line.
            let error = TransportError::from_source(e);
            let error = match server {
                Some(server) => error.with_server(server),
                None => error,
            };
            DeliveryOutcome::Failed {
                status: None,
                error: Some(error.to_string()),
            }
        }
        // The answer's body is never read: a receiver cannot make the fake
        // hold more than the status line and headers.
        Ok(Ok(response)) => match response.status().as_u16() {
            status @ (200 | 202) => DeliveryOutcome::Delivered { status },
            status => DeliveryOutcome::Failed {
                status: Some(status),
                error: None,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(policy: TargetUrlPolicy) -> Targets {
        Targets {
            policy,
            roots: DeliveryRoots::default(),
        }
    }

    #[test]
    fn targets_the_fake_contacts() {
        let loopback = &targets(TargetUrlPolicy::AllowLoopbackHttp);
        assert_eq!(refusal("http://127.0.0.1:9000/x", loopback, &[8080]), None);
        assert_eq!(refusal("http://localhost/x", loopback, &[8080]), None);
        assert!(
            refusal("http://127.0.0.1:8080/__fake/reset", loopback, &[8080])
                .unwrap()
                .contains("own listening port")
        );
        assert!(refusal("http://[::1]/x", loopback, &[80])
            .unwrap()
            .contains("own"));
        assert!(refusal(
            "http://127.0.0.1:9000/x",
            &targets(TargetUrlPolicy::HttpsOnly),
            &[]
        )
        .unwrap()
        .contains("policy"));
        assert!(refusal("http://10.0.0.1/x", loopback, &[])
            .unwrap()
            .contains("policy"));
    }

    #[test]
    fn https_without_a_trusted_root_names_the_option_that_adds_one() {
        for policy in [
            TargetUrlPolicy::HttpsOnly,
            TargetUrlPolicy::AllowLoopbackHttp,
        ] {
            let reason = refusal("https://127.0.0.1:9000/x", &targets(policy), &[]).unwrap();
            #[cfg(feature = "tls")]
            {
                assert!(reason.contains("trust_delivery_root"), "{reason}");
                assert!(reason.contains("--trust-delivery-root"), "{reason}");
            }
            #[cfg(not(feature = "tls"))]
            assert!(reason.contains("`tls` feature"), "{reason}");
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_goes_to_the_hosts_http_may_go_to_and_never_further() {
        let root = crate::tls::LoopbackCertificate::mint().root();
        let with_root = |policy| {
            let mut targets = targets(policy);
            targets.roots.add(root.clone()).unwrap();
            targets
        };
        let https_only = &with_root(TargetUrlPolicy::HttpsOnly);
        for ok in [
            "https://127.0.0.1:9000/x",
            "https://localhost:9000/",
            "https://[::1]:9000/x",
        ] {
            assert_eq!(refusal(ok, https_only, &[8080]), None, "{ok}");
        }
        for beyond in [
            "https://example.com/x",
            "https://10.0.0.7/x",
            "https://receiver:3000/x",
        ] {
            let reason = refusal(beyond, https_only, &[]).unwrap();
            assert!(
                reason.contains("only connects to loopback"),
                "{beyond}: {reason}"
            );
        }
        let named = &with_root(TargetUrlPolicy::allow_http_to(["receiver"]));
        assert_eq!(refusal("https://receiver:3000/x", named, &[]), None);
        assert!(refusal("https://receiver.example.com/x", named, &[]).is_some());
        // The default port of https is 443.
        assert!(refusal("https://localhost/x", https_only, &[443])
            .unwrap()
            .contains("own listening port 443"));
        assert!(refusal("https://127.0.0.1:8443/x", https_only, &[8443])
            .unwrap()
            .contains("own listening port"));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn only_certificates_can_be_roots() {
        let mut roots = DeliveryRoots::default();
        let not_a_certificate = rustls::pki_types::CertificateDer::from(vec![0x30, 0x03, 1, 2, 3]);
        assert!(roots.add(not_a_certificate).is_err());
        assert!(roots.https_refusal().is_some());
    }
}
