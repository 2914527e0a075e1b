//! `HyperTransportBuilder::proxy_from_env`, in a test binary of its own: it
//! sets process environment variables, which no other test may be reading
//! at the same time.

use attio_webhooks::{transport::HyperTransport, Client};
use attio_webhooks_testkit::{test_retry_policy, FakeAttio};

mod support;
use support::{bounded, Proxy};

#[test]
fn proxies_come_from_the_environment_only_when_asked() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bounded(async {
        let server = FakeAttio::new().serve().await.unwrap();
        let proxy = Proxy::start(None, false).await;
        // The environment is set before any request (and any resolver
        // thread) exists, and transports read it when built.
        for name in [
            "ALL_PROXY",
            "all_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "http_proxy",
            "no_proxy",
            "REQUEST_METHOD",
        ] {
            std::env::remove_var(name);
        }
        std::env::set_var("HTTP_PROXY", format!("http://{}", proxy.addr));
        std::env::set_var("NO_PROXY", "example.com");
        let from_env = HyperTransport::builder().proxy_from_env().build().unwrap();
        let not_asked = HyperTransport::new().unwrap();
        std::env::set_var("NO_PROXY", "example.com, 127.0.0.1");
        let exempted = HyperTransport::builder().proxy_from_env().build().unwrap();

        // How many requests the proxy has seen after each transport's call.
        for (case, transport, proxied_so_far) in [
            ("HTTP_PROXY applies", from_env, 1),
            ("the environment is not read unless asked", not_asked, 1),
            ("NO_PROXY exempts loopback", exempted, 1),
        ] {
            let client = Client::builder(server.token())
                .base_url(server.base_url())
                .retry_policy(test_retry_policy())
                .build(transport)
                .unwrap();
            let webhooks = client.list_webhooks(Default::default()).await.unwrap();
            assert!(webhooks.is_empty(), "{case}");
            assert_eq!(proxy.heads().len(), proxied_so_far, "{case}");
        }
        let heads = proxy.heads();
        let expected = format!("GET {}/v2/webhooks HTTP/1.1\r\n", server.base_url());
        assert!(heads[0].starts_with(&expected), "{}", heads[0]);
        assert_eq!(server.requests().len(), 3);
    }));
}
