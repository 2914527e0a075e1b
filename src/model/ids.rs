//! UUID newtypes for the ids Attio hands out.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InvalidInput;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Builds the id from its 128-bit value.
            pub const fn from_u128(value: u128) -> Self {
                Self(Uuid::from_u128(value))
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the hyphenated form (`23e42eaf-323a-41da-b5bb-fd67eebda553`).
            ///
            /// Anything that is not a UUID gives [`InvalidInput::Id`], so a bad id
            /// is caught before a request is sent.
            pub fn parse(value: &str) -> Result<Self, InvalidInput> {
                Uuid::try_parse(value).map(Self).map_err(|_| InvalidInput::Id {
                    kind: $what,
                    value: value.to_owned(),
                })
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            /// The lowercase hyphenated form Attio uses.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }
    };
}

uuid_id!(
    /// The id of a webhook (`id.webhook_id` on the wire, and the `{webhook_id}` path segment).
    ///
    /// ```
    /// use attio_webhooks::WebhookId;
    /// let id: WebhookId = "23e42eaf-323a-41da-b5bb-fd67eebda553".parse()?;
    /// assert_eq!(id.to_string(), "23e42eaf-323a-41da-b5bb-fd67eebda553");
    /// assert!("not-a-uuid".parse::<WebhookId>().is_err());
    /// # Ok::<(), attio_webhooks::error::InvalidInput>(())
    /// ```
    WebhookId,
    "webhook id"
);

uuid_id!(
    /// The id of the Attio workspace a webhook belongs to (`id.workspace_id`).
    WorkspaceId,
    "workspace id"
);
