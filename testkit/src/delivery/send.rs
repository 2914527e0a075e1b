//! One attempt on the wire: which targets the fake contacts, and the POST.

use std::time::Duration;

use attio_webhooks::{model::TargetUrlPolicy, receive::signature, TransportError};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;

use super::attempt::{DeliveryOutcome, DELIVERY_USER_AGENT};
use super::queue::Job;

/// The fake's delivery client: plain HTTP, pooled.
pub(crate) type Sender = HyperClient<HttpConnector, Full<Bytes>>;

pub(crate) fn sender() -> Sender {
    HyperClient::builder(TokioExecutor::new()).build_http()
}

/// Why the fake will not contact `target_url`, if it will not: the URL
/// must pass the fake's target URL policy now (not only when the webhook
/// was created), be plain `http://` (which the policy allows only for
/// loopback hosts and the hosts it names: the fake connects nowhere else
/// and speaks no TLS), and not be one of the fake's own listening ports.
pub(crate) fn refusal(
    target_url: &str,
    policy: &TargetUrlPolicy,
    own_ports: &[u16],
) -> Option<String> {
    if let Err(e) = policy.check(target_url) {
        return Some(format!("the fake's target URL policy refuses it: {e}"));
    }
    let Some(rest) = target_url.strip_prefix("http://") else {
        return Some(
            "the fake only connects to http:// targets on loopback hosts or hosts named by allow_http_targets_to (it speaks no TLS)"
                .to_owned(),
        );
    };
    let port = target_url
        .parse::<http::Uri>()
        .ok()
        .map(|uri| uri.port_u16().unwrap_or(80));
    match port {
        None => Some(format!("not a valid URL: {rest}")),
        Some(port) if own_ports.contains(&port) => Some(format!(
            "the target is the fake's own listening port {port}"
        )),
        Some(_) => None,
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

    #[test]
    fn targets_the_fake_contacts() {
        let loopback = &TargetUrlPolicy::AllowLoopbackHttp;
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
        assert!(refusal("https://example.com/x", loopback, &[])
            .unwrap()
            .contains("only connects to http://"));
        assert!(
            refusal("http://127.0.0.1:9000/x", &TargetUrlPolicy::HttpsOnly, &[])
                .unwrap()
                .contains("policy")
        );
        assert!(refusal("http://10.0.0.1/x", loopback, &[])
            .unwrap()
            .contains("policy"));
    }
}
