//! The rule for webhook target URLs, shared by the client and the testkit.

use crate::error::InvalidInput;

/// Which target URLs are accepted.
///
/// Attio requires `https://`. For local receivers in tests, the client and
/// the testkit's fake can both be told to also accept plain `http://` to a
/// loopback host (`127.0.0.1`, `[::1]`, `localhost`), or to hosts named
/// one by one (a receiver in a compose network: `http://receiver:3000`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetUrlPolicy {
    /// Only `https://` URLs with a host: what Attio accepts.
    #[default]
    HttpsOnly,
    /// `https://` URLs, plus `http://` URLs whose host is loopback.
    AllowLoopbackHttp,
    /// `https://` URLs, plus `http://` URLs whose host is loopback or one
    /// of these (host names or IP addresses, compared without regard to
    /// ASCII case; no wildcards). For test networks only: the delivery
    /// and its signature travel unencrypted. Build it with
    /// [`TargetUrlPolicy::allow_http_to`].
    AllowHttpTo(Vec<String>),
}

impl TargetUrlPolicy {
    /// `https://`, plus plain `http://` to loopback and to `hosts` (a
    /// compose service name such as `receiver`, or an IP address; an IPv6
    /// address with or without brackets).
    ///
    /// ```
    /// use attio_webhooks::model::TargetUrlPolicy;
    /// let policy = TargetUrlPolicy::allow_http_to(["receiver"]);
    /// assert!(policy.check("http://receiver:3000/attio").is_ok());
    /// assert!(policy.check("http://127.0.0.1:3000/attio").is_ok());
    /// assert!(policy.check("http://other:3000/attio").is_err());
    /// ```
    pub fn allow_http_to<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let hosts = hosts
            .into_iter()
            .map(|h| {
                let h: String = h.into();
                h.trim_start_matches('[').trim_end_matches(']').to_owned()
            })
            .collect();
        TargetUrlPolicy::AllowHttpTo(hosts)
    }

    /// Whether plain `http://` to `host` (as in a URL, IPv6 in brackets)
    /// is allowed.
    fn allows_http_host(&self, host: &str) -> bool {
        match self {
            TargetUrlPolicy::HttpsOnly => false,
            TargetUrlPolicy::AllowLoopbackHttp => is_loopback_host(host),
            TargetUrlPolicy::AllowHttpTo(hosts) => {
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                is_loopback_host(host) || hosts.iter().any(|h| h.eq_ignore_ascii_case(bare))
            }
        }
    }

    /// Checks `url` against the policy.
    ///
    /// ```
    /// use attio_webhooks::{error::InvalidInput, model::TargetUrlPolicy};
    /// let strict = TargetUrlPolicy::HttpsOnly;
    /// assert!(strict.check("https://example.com/hook").is_ok());
    /// assert!(matches!(strict.check("http://example.com/hook"), Err(InvalidInput::TargetUrl { .. })));
    /// assert!(TargetUrlPolicy::AllowLoopbackHttp.check("http://127.0.0.1:8080/hook").is_ok());
    /// assert!(TargetUrlPolicy::AllowLoopbackHttp.check("http://example.com/hook").is_err());
    /// ```
    pub fn check(&self, url: &str) -> Result<(), InvalidInput> {
        let reject = |reason: &'static str| {
            Err(InvalidInput::TargetUrl {
                url: url.to_owned(),
                reason,
            })
        };
        // `http::Uri` is more lenient than RFC 3986, which Attio's `format: uri` means.
        if !is_rfc3986(url) {
            return reject("not a valid URI: a character URIs do not allow, or a bad % escape");
        }
        let Ok(uri) = url.parse::<http::Uri>() else {
            return reject("not a valid absolute URL");
        };
        if uri.host().is_none_or(str::is_empty) {
            return reject("the URL has no host");
        }
        if uri.authority().is_some_and(|a| has_bad_port(a.as_str())) {
            return reject("the port is not a number");
        }
        if url.starts_with("https://") {
            return Ok(());
        }
        if url.starts_with("http://") && uri.host().is_some_and(|h| self.allows_http_host(h)) {
            return Ok(());
        }
        reject("Attio only delivers to https:// URLs")
    }
}

/// Only RFC 3986's characters, and every `%` starts a two-hex-digit escape.
fn is_rfc3986(url: &str) -> bool {
    let bytes = url.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| match b {
        b'%' => bytes
            .get(i + 1..i + 3)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
        _ => b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b),
    })
}

/// Whether an authority (`user@host:port`) has a port that is not digits.
fn has_bad_port(authority: &str) -> bool {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let after_host = host_port.rsplit(']').next().unwrap_or(host_port);
    after_host
        .split_once(':')
        .is_some_and(|(_, port)| !port.bytes().all(|b| b.is_ascii_digit()))
}

/// `true` for an `http://` URL whose host is loopback (`localhost`,
/// `127.x.x.x`, `[::1]`).
pub(crate) fn is_loopback_http_url(url: &str) -> bool {
    url.starts_with("http://")
        && url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(is_loopback_host))
            .unwrap_or(false)
}

/// `true` for `localhost`, `127.x.x.x` and `[::1]`.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_case_sensitive_like_attio_pattern() {
        assert!(TargetUrlPolicy::HttpsOnly
            .check("HTTPS://example.com")
            .is_err());
        assert!(TargetUrlPolicy::HttpsOnly.check("https://").is_err());
        assert!(TargetUrlPolicy::HttpsOnly.check("not a url").is_err());
        assert!(TargetUrlPolicy::HttpsOnly
            .check("ftp://example.com")
            .is_err());
    }

    #[test]
    fn the_public_loopback_check_is_the_policys() {
        assert!(is_loopback_http_url("http://[::1]:3000/attio"));
        assert!(is_loopback_http_url("http://localhost/x"));
        assert!(is_loopback_http_url("http://127.0.0.1:8080/hook"));
        assert!(!is_loopback_http_url("http://10.0.0.1/x"));
        assert!(!is_loopback_http_url("http://example.com/hook"));
        assert!(!is_loopback_http_url("https://127.0.0.1/x"));
    }

    #[test]
    fn loopback_http_urls() {
        assert!(is_loopback_http_url("http://127.0.0.1:8080/hook"));
        assert!(!is_loopback_http_url("http://example.com/hook"));
        assert!(!is_loopback_http_url("https://localhost/hook"));
    }

    #[test]
    fn loopback_hosts() {
        let p = TargetUrlPolicy::AllowLoopbackHttp;
        for ok in [
            "http://localhost/x",
            "http://127.0.0.1:9/x",
            "http://[::1]:80/",
            "http://127.5.6.7/",
        ] {
            assert!(p.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn named_http_hosts_and_nothing_else() {
        let p = TargetUrlPolicy::allow_http_to(["receiver", "10.0.0.7", "[fd00::7]"]);
        for ok in [
            "http://receiver:3000/attio",
            "http://RECEIVER/",
            "http://10.0.0.7:80/x",
            "http://[fd00::7]:3000/",
            "http://127.0.0.1:9/x",
            "https://anything.example/x",
        ] {
            assert!(p.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://receiver.evil.example/",
            "http://receiver2:3000/",
            "http://10.0.0.70/",
            "http://[fd00::8]/",
            "ftp://receiver/",
            "http://user@/",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
        assert!(TargetUrlPolicy::allow_http_to(Vec::<String>::new())
            .check("http://receiver/")
            .is_err());
    }
}
