//! Service and user identifiers, validated once at the edge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The reserved service that holds the help-desk console's operators' own tokens (user ID
/// `op-<id>`): the server refuses it to banks and provisioning, and the desktop token tells
/// an operator to type the first code on the console, not into internet banking.
pub const CONSOLE_SERVICE: &str = "_console";

/// Why a service or user ID was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-', and not '.' or '..'")]
pub struct IdError {
    /// "service ID" or "user ID".
    pub what: &'static str,
}

fn valid(text: &str) -> bool {
    // `.` and `..` would be path segments in the API's URLs, which clients and proxies
    // normalise away: such an ID could never be addressed.
    (1..=64).contains(&text.len())
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates `text`: 1–64 of `[A-Za-z0-9._-]`.
            pub fn new(text: impl Into<String>) -> Result<Self, IdError> {
                let text = text.into();
                if valid(&text) { Ok(Self(text)) } else { Err(IdError { what: $what }) }
            }

            /// The ID as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some(1))
                    .max_length(Some(64))
                    .pattern(Some("^[A-Za-z0-9._-]{1,64}$"))
                    .description(Some(concat!(
                        "A ",
                        $what,
                        ": 1 to 64 of A-Z, a-z, 0-9, '.', '_' or '-', not '.' or '..'."
                    )))
                    .into()
            }
        }

        #[cfg(feature = "utoipa")]
        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A service (tenant) ID: one per bank or banking product.
    ServiceId,
    "service ID"
);
id_type!(
    /// A user ID within a service, as the bank's internet banking knows the customer.
    UserId,
    "user ID"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(UserId::new("alice.smith_01-x").is_ok());
        assert!(UserId::new("").is_err());
        assert!(UserId::new("a".repeat(64)).is_ok());
        assert!(UserId::new("a".repeat(65)).is_err());
        assert!(ServiceId::new("bank one").is_err());
        assert!(ServiceId::new("銀行").is_err());
        assert!(serde_json::from_str::<UserId>("\"a/b\"").is_err());
    }
}
