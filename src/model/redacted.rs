//! String wrappers whose `Debug` and `Display` never show the value.

use core::fmt;

use serde::{Deserialize, Serialize};

macro_rules! redacted_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps the value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value itself. Keep it out of logs.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// `true` when the value is the empty string.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("<redacted>")
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

redacted_string!(
    /// The signing secret of a webhook: returned once, by create, and used to
    /// verify the `Attio-Signature` of every delivery.
    ///
    /// ```
    /// use attio_webhooks::Secret;
    /// let secret = Secret::new("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    /// assert_eq!(format!("{secret:?} {secret}"), "Secret(<redacted>) <redacted>");
    /// assert_eq!(secret.expose().len(), 64);
    /// ```
    Secret
);

redacted_string!(
    /// An Attio API key or OAuth access token, sent as `Authorization: Bearer <token>`.
    ///
    /// ```
    /// use attio_webhooks::model::ApiToken;
    /// let token = ApiToken::new("sk_live_123");
    /// assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
    /// ```
    ApiToken
);
