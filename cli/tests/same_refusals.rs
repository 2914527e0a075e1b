//! One verification path: the same hostile requests, sent byte for byte
//! to the library's axum extractor, its tower layer and the CLI's
//! `listen`, get the same status, content type and JSON body from each.
//!
//! The requests are written by hand on a raw TCP stream; the signatures
//! come from `hmac` + `sha2` directly, never from the crate's signer; the
//! expected answers are written out from the receiving docs' table.

use crate::common;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use attio_webhooks::receive::{VerifiedDelivery, Verifier, VerifyLayer};
use attio_webhooks::Secret;
use bytes::Bytes;
use common::{hmac_hex, Cli};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

const WAIT: Duration = Duration::from_secs(15);
const SECRET: &str = "7c1f0b6e2d9a4c3b8e5f1a2d6c9b0e4f7a3d8c2b5e1f6a9d0c4b7e2f5a8d1c3b";
const DELIVERY: &str = r#"{"webhook_id":"23e42eaf-323a-41da-b5bb-fd67eebda553","events":[]}"#;
const ONE_MIB: usize = 1024 * 1024;

/// The axum extractor, with the default (1 MiB) limit, as `listen` has.
async fn start_axum(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    use axum::extract::State;
    use axum::routing::post;
    let app = axum::Router::new()
        .route(
            "/attio",
            post(|State(_): State<Verifier>, _: VerifiedDelivery| async {
                axum::Json(json!({"status": "ok"}))
            }),
        )
        .with_state(Verifier::new(Secret::new(SECRET)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `VerifyLayer` in front of a plain service, served by hyper.
async fn start_tower(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    let inner = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
            br#"{"status":"ok"}"#,
        ))))
    });
    let verify = VerifyLayer::new(Verifier::new(Secret::new(SECRET))).layer(inner);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let verify = verify.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| verify.clone().oneshot(request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// What came back: status, `Content-Type`, and the body as JSON.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

/// Writes `head` (without the blank line), then `body`; with `cut`, closes
/// the sending side after the body, whatever `Content-Length` promised.
fn exchange(addr: SocketAddr, head: &str, body: &[u8], cut: bool) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let head = format!("{head}host: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // A refused body may be cut short by the server's answer.
    let _ = stream.write_all(body);
    if cut {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a whole answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let payload = if header("transfer-encoding").eq_ignore_ascii_case("chunked") {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Answer {
        status,
        content_type: header("content-type"),
        body: serde_json::from_str(&payload)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {payload:?}")),
    }
}

/// The data of a chunked body.
fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        text = &rest[size + 2..];
    }
    out
}

fn post(content_length: usize, headers: &[(&str, &str)]) -> String {
    let mut head = format!("POST /attio HTTP/1.1\r\ncontent-length: {content_length}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head
}

fn refusal(status: u16, error: &str, message: &str) -> Answer {
    Answer {
        status,
        content_type: "application/json".into(),
        body: json!({"error": error, "message": message}),
    }
}

#[test]
fn axum_tower_and_listen_refuse_alike() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let axum = runtime.block_on(start_axum(&runtime));
    let tower = runtime.block_on(start_tower(&runtime));
    let listen = Cli::new()
        .env("HOOK_SECRET", SECRET)
        .args(["listen", "--port", "0", "--secret-env", "HOOK_SECRET"])
        .spawn();
    let listen_addr = listen.listening_addr(WAIT);

    let signed = hmac_hex(SECRET, DELIVERY.as_bytes());
    let wrong = hmac_hex("not the secret", DELIVERY.as_bytes());
    let not_delivery = r#"{"webhook_id":"not-a-uuid","events":[]}"#;
    let not_delivery_sig = hmac_hex(SECRET, not_delivery.as_bytes());
    let truncated = r#"{"webhook_id":"#;
    let truncated_sig = hmac_hex(SECRET, truncated.as_bytes());
    let big = vec![b' '; ONE_MIB + 1];
    let big_sig = hmac_hex(SECRET, &big);
    let len = DELIVERY.len();
    let too_large = "the body is larger than the 1048576-byte limit";

    // (what, head, body, cut the body short, the answer the docs promise)
    let cases: Vec<(&str, String, Vec<u8>, bool, Answer)> = vec![
        (
            "no signature",
            post(len, &[]),
            DELIVERY.into(),
            false,
            refusal(
                401,
                "invalid_signature",
                "neither Attio-Signature nor X-Attio-Signature is present",
            ),
        ),
        (
            "wrong secret",
            post(len, &[("attio-signature", &wrong)]),
            DELIVERY.into(),
            false,
            refusal(
                401,
                "invalid_signature",
                "the signature does not match the body",
            ),
        ),
        (
            "signature not hex",
            post(len, &[("x-attio-signature", "zz-not-hex")]),
            DELIVERY.into(),
            false,
            Answer {
                status: 401,
                content_type: "application/json".into(),
                body: Value::Null, // the message is compared across doors
            },
        ),
        (
            "declared too large",
            post(ONE_MIB + 1, &[("attio-signature", &big_sig)]),
            b"   ".to_vec(),
            true,
            refusal(413, "body_too_large", too_large),
        ),
        (
            "chunked too large",
            "POST /attio HTTP/1.1\r\ntransfer-encoding: chunked\r\n".to_owned()
                + &format!("attio-signature: {big_sig}\r\n"),
            [
                format!("{:x}\r\n", big.len()).into_bytes(),
                big.clone(),
                b"\r\n0\r\n\r\n".to_vec(),
            ]
            .concat(),
            false,
            refusal(413, "body_too_large", too_large),
        ),
        (
            "signed, not a delivery",
            post(
                not_delivery.len(),
                &[("attio-signature", &not_delivery_sig)],
            ),
            not_delivery.into(),
            false,
            Answer {
                status: 400,
                content_type: "application/json".into(),
                body: Value::Null,
            },
        ),
        (
            "signed, not JSON",
            post(truncated.len(), &[("attio-signature", &truncated_sig)]),
            truncated.into(),
            false,
            Answer {
                status: 400,
                content_type: "application/json".into(),
                body: Value::Null,
            },
        ),
    ];

    for (what, head, body, cut, expected) in &cases {
        let answers: Vec<Answer> = [axum, tower, listen_addr]
            .into_iter()
            .map(|addr| exchange(addr, head, body, *cut))
            .collect();
        assert_eq!(answers[0], answers[1], "{what}: axum vs tower");
        assert_eq!(answers[0], answers[2], "{what}: axum vs listen");
        let got = &answers[0];
        assert_eq!(got.status, expected.status, "{what}");
        assert_eq!(got.content_type, expected.content_type, "{what}");
        if expected.body.is_null() {
            let code = match got.status {
                401 => "invalid_signature",
                _ => "invalid_delivery",
            };
            assert_eq!(got.body["error"], code, "{what}: {:?}", got.body);
            assert!(got.body["message"].is_string(), "{what}");
        } else {
            assert_eq!(got.body, expected.body, "{what}");
        }
    }

    // A body cut short: the connection fails mid-body. Each door answers
    // 400 unreadable_body (hyper's message names the failure).
    let answers: Vec<Answer> = [axum, tower, listen_addr]
        .into_iter()
        .map(|addr| {
            exchange(
                addr,
                &post(len + 50, &[("attio-signature", &signed)]),
                DELIVERY.as_bytes(),
                true,
            )
        })
        .collect();
    for answer in &answers {
        assert_eq!(
            (answer.status, &answer.body["error"]),
            (400, &json!("unreadable_body"))
        );
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], answers[2]);

    // And the control: a good delivery passes every door.
    for addr in [axum, tower, listen_addr] {
        let answer = exchange(
            addr,
            &post(len, &[("attio-signature", &signed)]),
            DELIVERY.as_bytes(),
            false,
        );
        assert_eq!(answer.status, 200, "{addr}");
    }
}
