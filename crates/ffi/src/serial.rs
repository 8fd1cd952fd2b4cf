//! Serial numbers for the registration screens: generate, and check what a customer typed.

use softtoken_core::protocol::Serial;

use crate::SoftTokenError;

/// A valid serial number in both of its written forms.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SerialNumber {
    /// Normalised, no spaces (`SKTS12345678`): what apps store and send.
    pub compact: String,
    /// Grouped for people to read and type (`SKTS 1234 5678`): what apps display.
    pub grouped: String,
}

impl From<Serial> for SerialNumber {
    fn from(serial: Serial) -> Self {
        SerialNumber {
            compact: serial.as_str().to_owned(),
            grouped: serial.grouped(),
        }
    }
}

/// A fresh serial number from the operating system's secure random generator.
#[uniffi::export]
pub fn generate_serial() -> SerialNumber {
    Serial::generate().into()
}

/// Checks a serial number as a person typed it: spaces, hyphens and case do not matter, and
/// `O`, `I`, `L` read as `0`, `1`, `1`. Fails with [`SoftTokenError::InvalidInput`] naming the
/// problem (prefix, length, symbol or a typo caught by the check symbol).
#[uniffi::export]
pub fn parse_serial(text: String) -> Result<SerialNumber, SoftTokenError> {
    Ok(Serial::parse(&text)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InputField;

    #[test]
    fn parse_normalises_and_groups() {
        let fresh = generate_serial();
        let typed = fresh.grouped.to_lowercase().replace(' ', "-");
        assert_eq!(parse_serial(typed).unwrap(), fresh);
        assert_eq!(fresh.grouped.replace(' ', ""), fresh.compact);
    }

    #[test]
    fn typo_is_invalid_input() {
        let err = parse_serial("SKTS 1234 567".into()).unwrap_err();
        assert!(
            matches!(&err, SoftTokenError::InvalidInput { field: InputField::Serial, detail } if detail.contains("12 characters")),
            "{err:?}"
        );
    }
}
