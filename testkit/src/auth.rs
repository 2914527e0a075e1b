//! Bearer tokens and their scopes, checked like Attio checks them.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use attio_webhooks::ApiErrorBody;
use http::header::AUTHORIZATION;
use http::HeaderMap;

use crate::errors;

/// An OAuth scope of the webhooks API.
///
/// `webhook:read` allows list and get; `webhook:read-write` allows all five
/// operations (Attio describes it as "view, and optionally manage").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(errors::unauthorized(
                "Missing Authorization header; expected \"Bearer <token>\".",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                errors::unauthorized("Malformed Authorization header; expected \"Bearer <token>\".")
            })?;
        let scopes = self.0.get(token).ok_or_else(|| {
            errors::unauthorized("The access token is invalid or has been revoked.")
        })?;
        if scopes.iter().any(|s| s.grants(needed)) {
            Ok(())
        } else {
            Err(errors::forbidden(needed.as_str()))
        }
    }
}
