//! The night cut-off of the guides (けんしん: a token revoked between 20:50 and 8:10 may be
//! re-issued from 8:10): a daily window, in a service's time zone, in which a revocation's
//! cool-down lasts at least until the window's end. The window is a service's policy; the
//! rule that applies it is `store::rules::night_window_end`.

use std::fmt;

use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;

/// The zone a window is in unless the service names another: the guides are Japanese.
pub const DEFAULT_ZONE: Tz = chrono_tz::Asia::Tokyo;

/// A daily window `start`–`end` (local wall-clock times of `zone`, minute precision). It
/// crosses midnight when `end` is before `start` (20:50–08:10); it covers `start` and not
/// `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightCutoff {
    /// The first minute of the window.
    pub start: NaiveTime,
    /// The first minute after the window: a cool-down extended by it ends here.
    pub end: NaiveTime,
    /// The time zone both times are in.
    pub zone: Tz,
}

impl NightCutoff {
    /// Parses a window `HH:MM-HH:MM` (e.g. `20:50-08:10`) in the IANA zone `zone` (e.g.
    /// `Asia/Tokyo`); an error saying what is wrong otherwise.
    pub fn parse(window: &str, zone: &str) -> Result<Self, String> {
        let (start, end) = window.trim().split_once('-').ok_or_else(|| {
            format!("'{window}' is not a window like 20:50-08:10 (HH:MM-HH:MM, 24-hour)")
        })?;
        let start = minute(start, window)?;
        let end = minute(end, window)?;
        if start == end {
            return Err(format!(
                "'{window}': the window starts where it ends; give two different times"
            ));
        }
        let zone: Tz = zone.trim().parse().map_err(|_| {
            format!("'{zone}' is not an IANA time zone name like Asia/Tokyo or UTC")
        })?;
        Ok(NightCutoff { start, end, zone })
    }

    /// The window as `parse` takes it, e.g. `20:50-08:10`.
    pub fn window(&self) -> String {
        format!("{}-{}", hh_mm(self.start), hh_mm(self.end))
    }

    /// The zone's IANA name, e.g. `Asia/Tokyo`.
    pub fn zone_name(&self) -> &'static str {
        self.zone.name()
    }
}

impl fmt::Display for NightCutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.window(), self.zone_name())
    }
}

/// `HH:MM` (one or two hour digits, two minute digits) as a time of day.
fn minute(text: &str, window: &str) -> Result<NaiveTime, String> {
    let bad = || format!("'{window}': '{text}' is not a time of day HH:MM from 00:00 to 23:59");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let min: u32 = m.parse().map_err(|_| bad())?;
    NaiveTime::from_hms_opt(hour, min, 0).ok_or_else(bad)
}

fn hh_mm(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_print_back() {
        let w = NightCutoff::parse("20:50-08:10", "Asia/Tokyo").unwrap();
        assert_eq!(w.window(), "20:50-08:10");
        assert_eq!(w.zone, DEFAULT_ZONE);
        assert_eq!(w.to_string(), "20:50-08:10 Asia/Tokyo");
        let w = NightCutoff::parse(" 9:05-13:00 ", "UTC").unwrap();
        assert_eq!(w.window(), "09:05-13:00");
        assert_eq!(w.zone_name(), "UTC");
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (window, zone, needle) in [
            ("20:50", "Asia/Tokyo", "like 20:50-08:10"),
            ("24:00-08:10", "Asia/Tokyo", "'24:00'"),
            ("20:60-08:10", "Asia/Tokyo", "'20:60'"),
            ("20:5-08:10", "Asia/Tokyo", "'20:5'"),
            ("ab:cd-08:10", "Asia/Tokyo", "'ab:cd'"),
            ("08:10-08:10", "Asia/Tokyo", "starts where it ends"),
            ("20:50-08:10", "Tokyo", "'Tokyo' is not an IANA time zone"),
        ] {
            let e = NightCutoff::parse(window, zone).unwrap_err();
            assert!(e.contains(needle), "{window} {zone}: {e}");
        }
    }
}
