//! Which URLs are on this machine: the only ones `dev` delivers to and
//! `trigger` sends its control token to, and the base URLs for which the
//! client accepts plain-HTTP target URLs.

/// `true` for a plain `http://` URL whose host is loopback (`localhost`,
/// `127.x.x.x`, `[::1]`).
pub fn is_loopback_http(url: &str) -> bool {
    url.starts_with("http://")
        && url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(is_loopback_host))
            .unwrap_or(false)
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_http;

    #[test]
    fn only_plain_http_to_a_loopback_host() {
        for yes in [
            "http://127.0.0.1:8080/hook",
            "http://127.3.2.1/",
            "http://[::1]:3000/attio",
            "http://LOCALHOST/x",
        ] {
            assert!(is_loopback_http(yes), "{yes}");
        }
        for no in [
            "https://127.0.0.1/x",
            "http://10.0.0.1/x",
            "http://example.com/hook",
            "http://localhost.example.com/",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            assert!(!is_loopback_http(no), "{no}");
        }
    }
}
