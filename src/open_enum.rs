//! A macro for the "open" string enums of Attio's wire format.
//!
//! Attio adds event types, statuses and error codes over time. Each enum made
//! here has one variant per value known today plus `Unknown(String)`, which
//! keeps any other value verbatim so that it serializes back unchanged.
//!
//! Every such enum is `#[non_exhaustive]`: a later version of this crate
//! adds a variant for each value Attio adds, without a major release. A
//! `match` outside the crate therefore needs a wildcard arm, and a value
//! that arrives as `Unknown("x")` today may arrive as a named variant after
//! an upgrade (see [`crate::EventType`]).

/// Defines an open string enum: known variants, an `Unknown(String)`
/// catch-all, `as_str`, `From<&str>`/`From<String>`, `FromStr`, `Display`,
/// and serde impls that read and write the bare string.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Every value known to this version of the crate, in Attio's documented order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The value exactly as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(other) => other.as_str(),
                }
            }

            /// `true` unless this is the `Unknown` variant.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }

            fn from_known(value: &str) -> Option<Self> {
                match value {
                    $( $wire => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::from_known(value).unwrap_or_else(|| $name::Unknown(value.to_owned()))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::from_known(&value).unwrap_or($name::Unknown(value))
            }
        }

        impl core::str::FromStr for $name {
            type Err = core::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.write_str(concat!("a string (", stringify!($name), ")"))
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

pub(crate) use open_enum;
