//! Bearer tokens: the API's, with their scopes, checked like Attio checks
//! them; and the control token that guards `/__fake`.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use attio_webhooks::error::ApiErrorBody;
use http::header::AUTHORIZATION;
use http::HeaderMap;

use super::errors;

/// An OAuth scope of the webhooks API.
///
/// `webhook:read` allows list and get; `webhook:read-write` allows all five
/// operations (Attio describes it as "view, and optionally manage").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// `webhook:read`
    Read,
    /// `webhook:read-write`
    ReadWrite,
}

impl Scope {
    /// The scope as Attio names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "webhook:read",
            Scope::ReadWrite => "webhook:read-write",
        }
    }

    /// The access Attio's 403 message names for this scope: `Read` or
    /// `Read-Write` (of the Webhooks scope).
    pub(crate) fn access(self) -> &'static str {
        match self {
            Scope::Read => "Read",
            Scope::ReadWrite => "Read-Write",
        }
    }

    /// Whether holding `self` allows what `needed` allows.
    pub fn grants(self, needed: Scope) -> bool {
        self == needed || self == Scope::ReadWrite
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name the fake does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: expected webhook:read or webhook:read-write")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "webhook:read" => Ok(Scope::Read),
            "webhook:read-write" => Ok(Scope::ReadWrite),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// The bearer token of a request, or the 401 for its absence.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, ApiErrorBody> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(errors::unauthorized(errors::NO_AUTHORIZATION));
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            errors::unauthorized("Malformed Authorization header; expected \"Bearer <token>\".")
        })
}

/// The tokens the fake accepts, each with its scopes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tokens(HashMap<String, Vec<Scope>>);

impl Tokens {
    pub(crate) fn insert(&mut self, token: String, scopes: Vec<Scope>) {
        self.0.insert(token, scopes);
    }

    /// 401 for a missing, malformed or unknown token; 403 when the token
    /// lacks `needed`.
    pub(crate) fn authorize(&self, headers: &HeaderMap, needed: Scope) -> Result<(), ApiErrorBody> {
        let token = bearer(headers)?;
        let scopes = self
            .0
            .get(token)
            .ok_or_else(|| errors::unauthorized(errors::UNKNOWN_TOKEN))?;
        if scopes.iter().any(|s| s.grants(needed)) {
            Ok(())
        } else {
            Err(errors::forbidden(needed.access()))
        }
    }
}

/// Who may use the control routes under `/__fake`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum ControlAccess {
    /// Anyone who can reach the fake (the default, for loopback use).
    #[default]
    Open,
    /// Only requests with `Authorization: Bearer <token>`.
    Token(String),
    /// Nobody: the routes answer 404 as if they did not exist.
    Off,
}

impl ControlAccess {
    /// 401 unless the request carries the control token (when one is set).
    pub(crate) fn authorize(&self, headers: &HeaderMap) -> Result<(), ApiErrorBody> {
        match self {
            ControlAccess::Open | ControlAccess::Off => Ok(()),
            ControlAccess::Token(expected) => {
                let given = bearer(headers)?;
                if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                    Ok(())
                } else {
                    Err(errors::unauthorized(
                        "The control routes need the fake's control token.",
                    ))
                }
            }
        }
    }
}

/// Compares without stopping at the first difference, so the time taken
/// says nothing about how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, value.parse().unwrap());
        h
    }

    #[test]
    fn control_token_is_checked_exactly() {
        let access = ControlAccess::Token("s3cret".into());
        assert!(access.authorize(&headers("Bearer s3cret")).is_ok());
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret ",
            "Bearer S3CRET",
            "s3cret",
            "Bearer ",
        ] {
            assert_eq!(
                access.authorize(&headers(bad)).unwrap_err().status_code,
                401,
                "{bad}"
            );
        }
        assert_eq!(
            access.authorize(&HeaderMap::new()).unwrap_err().status_code,
            401
        );
        assert!(ControlAccess::Open.authorize(&HeaderMap::new()).is_ok());
    }
}
