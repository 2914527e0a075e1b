//! The three things the core needs from a browser or an edge runtime, on
//! `wasm32-unknown-unknown`: a [`Transport`] over the platform's `fetch`,
//! a [`Clock`] over `performance.now()` and `Date.now()`, and an
//! [`AsyncSleep`] over `setTimeout`. None of their futures is `Send`
//! (JavaScript's promises are not), which the core accepts on `wasm32`.
//!
//! Built with wasm-bindgen: `list_webhooks` is exported to JavaScript, so
//! after `wasm-bindgen --target web` a page can call
//! `await list_webhooks(token, "https://api.attio.com")` and get the
//! webhooks as JSON text. `fetch`, `performance` and `setTimeout` are read
//! from the global object, so the same module works in a window, a worker,
//! Cloudflare Workers, Deno and Node.
#![cfg(target_arch = "wasm32")]

use std::time::{Duration, SystemTime};

use attio_webhooks::bytes::Bytes;
use attio_webhooks::operations::ListWebhooks;
use attio_webhooks::runtime::{AsyncSleep, Clock, Sleep};
use attio_webhooks::transport::{TransportError, TransportErrorKind};
use attio_webhooks::{async_trait, http, Client, Transport};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// [`Transport`] over the global `fetch`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

#[async_trait(?Send)]
impl Transport for FetchTransport {
    type Error = TransportError;

    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        let headers = web_sys::Headers::new().map_err(js(TransportErrorKind::Other))?;
        for (name, value) in &parts.headers {
            let value = value
                .to_str()
                .map_err(|e| TransportError::new(TransportErrorKind::Protocol, e))?;
            headers
                .append(name.as_str(), value)
                .map_err(js(TransportErrorKind::Protocol))?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method(parts.method.as_str());
        init.set_headers(&headers);
        if !body.is_empty() {
            init.set_body(&Uint8Array::from(&body[..]));
        }
        let request = web_sys::Request::new_with_str_and_init(&parts.uri.to_string(), &init)
            .map_err(js(TransportErrorKind::Protocol))?;
        // A rejected fetch is a network failure: no response was had.
        let fetch: Function = global("fetch").map_err(js(TransportErrorKind::Unsupported))?;
        let promise: Promise = fetch
            .call1(&JsValue::UNDEFINED, &request)
            .map_err(js(TransportErrorKind::Connect))?
            .unchecked_into();
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(js(TransportErrorKind::Connect))?
            .unchecked_into();
        let mut answer = http::Response::builder().status(response.status());
        let entries = js_sys::try_iter(&response.headers())
            .map_err(js(TransportErrorKind::Protocol))?
            .into_iter()
            .flatten();
        for entry in entries {
            let pair: js_sys::Array = entry
                .map_err(js(TransportErrorKind::Protocol))?
                .unchecked_into();
            if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                answer = answer.header(name, value);
            }
        }
        let buffer = response
            .array_buffer()
            .map_err(js(TransportErrorKind::ConnectionClosed))?;
        let buffer = JsFuture::from(buffer)
            .await
            .map_err(js(TransportErrorKind::ConnectionClosed))?;
        answer
            .body(Bytes::from(Uint8Array::new(&buffer).to_vec()))
            .map_err(|e| TransportError::new(TransportErrorKind::Protocol, e))
    }
}

/// [`Clock`] over `performance.now()` (monotonic) and `Date.now()` (wall).
#[derive(Clone, Copy, Debug, Default)]
pub struct JsClock;

impl Clock for JsClock {
    fn monotonic(&self) -> Duration {
        let performance = Reflect::get(&js_sys::global(), &"performance".into()).ok();
        let now = performance
            .and_then(|p| Reflect::get(&p, &"now".into()).ok().map(|now| (p, now)))
            .and_then(|(p, now)| now.dyn_ref::<Function>()?.call0(&p).ok()?.as_f64());
        // Without `performance`, the wall clock is the best there is.
        Duration::from_secs_f64(now.unwrap_or_else(js_sys::Date::now).max(0.0) / 1000.0)
    }

    fn wall(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(js_sys::Date::now().max(0.0) / 1000.0)
    }
}

/// [`AsyncSleep`] over the global `setTimeout`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsSleep;

impl AsyncSleep for JsSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let millis = duration.as_millis().min(i32::MAX as u128) as f64;
        let promise = Promise::new(&mut |resolve, _reject| {
            if let Ok(set_timeout) = global::<Function>("setTimeout") {
                let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &millis.into());
            }
        });
        Box::pin(async move {
            let _ = JsFuture::from(promise).await;
        })
    }
}

/// Lists the workspace's webhooks through `fetch` and returns them as JSON
/// text; `base_url` is Attio's (`https://api.attio.com`) or a fake's.
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn list_webhooks(token: String, base_url: String) -> Result<String, JsValue> {
    let client = Client::builder(token)
        .base_url(base_url)
        .clock(JsClock)
        .sleep(JsSleep)
        .build(FetchTransport)
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let webhooks = client
        .list_webhooks(ListWebhooks::new())
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    let ids: Vec<String> = webhooks
        .iter()
        .map(|w| w.id.webhook_id.to_string())
        .collect();
    Ok(format!("{ids:?}"))
}

/// A function or object of the global scope (`globalThis`).
fn global<T: JsCast>(name: &str) -> Result<T, JsValue> {
    Reflect::get(&js_sys::global(), &name.into())?
        .dyn_into()
        .map_err(|_| JsValue::from_str(&format!("no global {name}")))
}

/// A JavaScript exception as a [`TransportError`] of `kind` (its text only:
/// a `JsValue` cannot leave the thread, and the error must be `Send`).
fn js(kind: TransportErrorKind) -> impl Fn(JsValue) -> TransportError {
    move |value| {
        let text = value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        TransportError::new(kind, text)
    }
}
