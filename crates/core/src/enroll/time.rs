//! The server's clock offset: what `GET /v1/time` answers, and how the round trip is
//! taken out of it.

use serde::Deserialize;

/// `GET /v1/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeResponse {
    /// The server's clock, Unix milliseconds.
    pub unix_ms: i64,
}

/// Server clock minus device clock, in milliseconds: the server read its clock at some
/// moment between `sent_ms` and `received_ms` (device time); the midpoint is the best guess,
/// wrong by at most half the round trip.
pub fn clock_offset_ms(sent_ms: i64, received_ms: i64, server_ms: i64) -> i64 {
    let (sent, received) = (i128::from(sent_ms), i128::from(received_ms.max(sent_ms)));
    let midpoint = sent + (received - sent) / 2;
    let offset = i128::from(server_ms) - midpoint;
    i64::try_from(offset).unwrap_or(if offset < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_round_trip_is_halved() {
        // Sent at 1000, answered at 1400 (device); the server said 61_200: it is ~60 s ahead.
        assert_eq!(clock_offset_ms(1_000, 1_400, 61_200), 60_000);
        assert_eq!(clock_offset_ms(5_000, 5_000, 4_000), -1_000);
        // A device clock that jumped back mid-request counts as no round trip.
        assert_eq!(clock_offset_ms(5_000, 4_000, 5_000), 0);
        assert_eq!(clock_offset_ms(0, 0, i64::MAX), i64::MAX);
        assert_eq!(clock_offset_ms(i64::MAX, i64::MAX, i64::MIN), i64::MIN);
    }
}
