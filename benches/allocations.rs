//! Allocations per operation, counted by a global allocator: building the
//! HTTP request, decoding a realistic answer, and a whole call through the
//! client against the in-process fake (client and fake together).
//!
//! ```sh
//! cargo bench --bench allocations
//! ```

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use attio_webhooks::operations::{
    CreateWebhook, DeleteWebhook, GetWebhook, ListWebhooks, UpdateWebhook,
};
use attio_webhooks::{client::Endpoint, Client, Request, RequestExt, WebhookId};
use attio_webhooks_testkit::{FakeAttio, InProcessTransport};
use bytes::Bytes;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (and bytes) of the second run of `f`; the first warms caches.
fn count<T>(mut f: impl FnMut() -> T) -> (usize, usize) {
    drop(f());
    let (a, b) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let out = f();
    let counted = (
        ALLOCATIONS.load(Ordering::Relaxed) - a,
        BYTES.load(Ordering::Relaxed) - b,
    );
    drop(out);
    counted
}

fn answer(body: Bytes) -> http::Response<Bytes> {
    http::Response::new(body)
}

fn row<R: Request>(
    name: &str,
    endpoint: &Endpoint,
    request: &R,
    body: &Bytes,
    call: (usize, usize),
) {
    let build = count(|| endpoint.build(request).unwrap());
    let decode = count(|| R::decode(answer(body.clone())).ok());
    println!(
        "| {name} | {} ({} B) | {} ({} B) | {} ({} B) |",
        build.0, build.1, decode.0, decode.1, call.0, call.1
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let fake = FakeAttio::builder().max_recorded_requests(0).build();
    let client: Client<InProcessTransport> = fake.client();
    let endpoint = client.endpoint().clone();
    let subs = common::subscriptions(3, 4);
    let created = runtime
        .block_on(client.create_webhook("https://hooks.example.com/a", subs.clone()))
        .unwrap();
    let id: WebhookId = created.webhook.webhook_id();
    // Nine more, so that list answers a full default page of 10.
    for i in 0..9 {
        let w = common::webhook(i);
        runtime
            .block_on(client.create_webhook(w.target_url, w.subscriptions))
            .unwrap();
    }
    let webhook_body =
        Bytes::from(serde_json::to_vec(&serde_json::json!({"data": created.webhook})).unwrap());
    let created_body =
        Bytes::from(serde_json::to_vec(&serde_json::json!({"data": created})).unwrap());
    let page_body = common::list_page(10);

    let list = ListWebhooks::new().limit(10);
    let get = GetWebhook::new(id);
    let update = UpdateWebhook::new(id).subscriptions(subs.clone());
    let missing = DeleteWebhook::new(WebhookId::from_u128(42));
    // `count` runs a call twice; each create needs its own target to be unique.
    let creates = ["https://hooks.example.com/b", "https://hooks.example.com/c"]
        .map(|url| CreateWebhook::new(url, subs.clone()));
    let next_create = std::cell::Cell::new(0);

    let send = |request: &dyn Fn() -> bool| count(request);
    let list_call = send(&|| runtime.block_on(client.send(&list)).is_ok());
    let create_call = send(&|| {
        let i = next_create.replace(next_create.get() + 1);
        runtime.block_on(client.send(&creates[i])).is_ok()
    });
    let get_call = send(&|| runtime.block_on(client.send(&get)).is_ok());
    let update_call = send(&|| runtime.block_on(client.send(&update)).is_ok());
    let delete_call = send(&|| runtime.block_on(client.send(&missing)).is_ok());

    println!(
        "| operation | build request | decode answer | whole call, in-process (client + fake) |"
    );
    println!("|---|---|---|---|");
    row(
        "list (10 webhooks)",
        &endpoint,
        &list,
        &page_body,
        list_call,
    );
    row(
        "create (4 subscriptions)",
        &endpoint,
        &creates[0],
        &created_body,
        create_call,
    );
    row("get", &endpoint, &get, &webhook_body, get_call);
    row(
        "update (4 subscriptions)",
        &endpoint,
        &update,
        &webhook_body,
        update_call,
    );
    row(
        "delete (an unknown id: 404)",
        &endpoint,
        &missing,
        &Bytes::from_static(b"{}"),
        delete_call,
    );
}
