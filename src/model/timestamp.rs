//! `created_at` timestamps with nanosecond precision.

use core::fmt;
use core::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::error::InvalidInput;
use crate::runtime::Clock;

/// A point in time as Attio writes it: RFC 3339 in UTC with exactly nine
/// fractional digits, e.g. `2023-04-27T13:22:49.061281000Z`.
///
/// Parsing accepts any RFC 3339 timestamp (any number of fractional digits,
/// any offset) and keeps nanosecond precision; formatting always gives
/// Attio's form, so a value read from Attio is written back byte for byte.
///
/// ```
/// use attio_webhooks::model::Timestamp;
/// let t: Timestamp = "2023-04-27T13:22:49.061281000Z".parse()?;
/// assert_eq!(t.to_string(), "2023-04-27T13:22:49.061281000Z");
/// assert_eq!(t.unix_nanos() % 1_000_000_000, 61_281_000);
/// let shifted: Timestamp = "2023-04-27T15:22:49.5+02:00".parse()?;
/// assert_eq!(shifted.to_string(), "2023-04-27T13:22:49.500000000Z");
/// # Ok::<(), attio_webhooks::error::InvalidInput>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00.000000000Z`.
    pub const UNIX_EPOCH: Timestamp = Timestamp(OffsetDateTime::UNIX_EPOCH);

    /// The current time of the system clock.
    ///
    /// Not on `wasm32-unknown-unknown`, which has no system clock: use
    /// [`Timestamp::now_with`] there.
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The current time of `clock` (its [`Clock::wall`]): the form that
    /// works on every target, and in tests with a clock moved by hand.
    ///
    /// ```
    /// use attio_webhooks::model::Timestamp;
    /// # #[cfg(not(target_arch = "wasm32"))] {
    /// let now = Timestamp::now_with(&attio_webhooks::runtime::StdClock);
    /// assert!(now > Timestamp::UNIX_EPOCH);
    /// # }
    /// ```
    pub fn now_with<C: Clock + ?Sized>(clock: &C) -> Self {
        Self::from(clock.wall())
    }

    /// The earliest timestamp: `0000-01-01T00:00:00.000000000Z`.
    pub const MIN: Timestamp = Timestamp(utc(0, time::Month::January, 1, 0, 0, 0, 0));
    /// The latest timestamp: `9999-12-31T23:59:59.999999999Z`.
    pub const MAX: Timestamp = Timestamp(utc(
        9999,
        time::Month::December,
        31,
        23,
        59,
        59,
        999_999_999,
    ));

    /// Parses an RFC 3339 timestamp. The instant, in UTC, must fall in the
    /// years 0000..=9999 that RFC 3339 can write.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        if let Some(canonical) = Self::parse_canonical(value.as_bytes()) {
            return Ok(canonical);
        }
        let reject = |reason: String| InvalidInput::Timestamp {
            value: value.to_owned(),
            reason,
        };
        let parsed = OffsetDateTime::parse(value, &Rfc3339).map_err(|e| reject(e.to_string()))?;
        parsed
            .checked_to_offset(UtcOffset::UTC)
            .and_then(Self::in_range)
            .ok_or_else(|| reject("in UTC it falls outside the years 0000..=9999".to_owned()))
    }

    /// The fast path for Attio's own form, `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`;
    /// `None` sends anything else (or anything invalid) to the full parser.
    fn parse_canonical(b: &[u8]) -> Option<Self> {
        if b.len() != 30 || b[29] != b'Z' {
            return None;
        }
        let separators = [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ];
        if separators.iter().any(|&(i, c)| b[i] != c) {
            return None;
        }
        let number = |from: usize, to: usize| -> Option<u32> {
            b[from..to].iter().try_fold(0u32, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        };
        let month = time::Month::try_from(u8::try_from(number(5, 7)?).ok()?).ok()?;
        let date = time::Date::from_calendar_date(
            i32::try_from(number(0, 4)?).ok()?,
            month,
            u8::try_from(number(8, 10)?).ok()?,
        )
        .ok()?;
        let clock = time::Time::from_hms_nano(
            u8::try_from(number(11, 13)?).ok()?,
            u8::try_from(number(14, 16)?).ok()?,
            u8::try_from(number(17, 19)?).ok()?,
            number(20, 29)?,
        )
        .ok()?;
        Some(Self(time::PrimitiveDateTime::new(date, clock).assume_utc()))
    }

    /// Writes Attio's form into `buf` (no allocation, no formatting machinery).
    fn write_canonical<'b>(&self, buf: &'b mut [u8; 30]) -> &'b str {
        fn digits(out: &mut [u8], mut n: u32) {
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        }
        let t = self.0;
        *buf = *b"0000-00-00T00:00:00.000000000Z";
        // The year is in 0..=9999: every constructor checks the range.
        digits(&mut buf[0..4], t.year().unsigned_abs());
        digits(&mut buf[5..7], u32::from(u8::from(t.month())));
        digits(&mut buf[8..10], u32::from(t.day()));
        digits(&mut buf[11..13], u32::from(t.hour()));
        digits(&mut buf[14..16], u32::from(t.minute()));
        digits(&mut buf[17..19], u32::from(t.second()));
        digits(&mut buf[20..29], t.nanosecond());
        // Only ASCII digits and separators were written.
        std::str::from_utf8(buf).unwrap_or("0000-00-00T00:00:00.000000000Z")
    }

    fn in_range(t: OffsetDateTime) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0).contains(&t).then_some(Self(t))
    }

    /// Builds a timestamp from nanoseconds since the Unix epoch, or `None`
    /// outside the years 0000..=9999.
    pub fn from_unix_nanos(nanos: i128) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(Self::in_range)
    }

    /// Nanoseconds since the Unix epoch (negative before it).
    pub fn unix_nanos(&self) -> i128 {
        self.0.unix_timestamp_nanos()
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        SystemTime::from(self.0)
    }

    /// This time plus `duration`, saturating at [`Timestamp::MAX`].
    pub fn saturating_add(&self, duration: Duration) -> Self {
        let sum = self
            .0
            .saturating_add(duration.try_into().unwrap_or(time::Duration::MAX));
        Self(sum.min(Self::MAX.0))
    }

    /// How long after `earlier` this is; zero if it is not later.
    pub fn duration_since(&self, earlier: Timestamp) -> Duration {
        (self.0 - earlier.0).try_into().unwrap_or(Duration::ZERO)
    }
}

/// A UTC instant from its parts, for constants (a bad part fails the build).
const fn utc(
    year: i32,
    month: time::Month,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    nano: u32,
) -> OffsetDateTime {
    let Ok(date) = time::Date::from_calendar_date(year, month, day) else {
        panic!("invalid date")
    };
    let Ok(time) = time::Time::from_hms_nano(hour, minute, second, nano) else {
        panic!("invalid time")
    };
    time::PrimitiveDateTime::new(date, time).assume_utc()
}

impl From<SystemTime> for Timestamp {
    /// Converts, saturating at [`Timestamp::MIN`] and [`Timestamp::MAX`].
    fn from(value: SystemTime) -> Self {
        let nanos = match value.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
            Err(before) => -i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX),
        };
        Self::from_unix_nanos(nanos).unwrap_or(if nanos < 0 { Self::MIN } else { Self::MAX })
    }
}

impl FromStr for Timestamp {
    type Err = InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_canonical(&mut [0; 30]))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.write_canonical(&mut [0; 30]))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Timestamp, E> {
                Timestamp::parse(value).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_nanoseconds_and_attio_format() {
        let t = Timestamp::parse("2024-01-02T03:04:05.123456789Z").unwrap();
        assert_eq!(t.to_string(), "2024-01-02T03:04:05.123456789Z");
        let short = Timestamp::parse("2024-01-02T03:04:05Z").unwrap();
        assert_eq!(short.to_string(), "2024-01-02T03:04:05.000000000Z");
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_parser() {
        for text in [
            "2023-04-27T13:22:49.061281000Z",
            "0000-01-01T00:00:00.000000000Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-02-29T12:00:00.000000001Z",
        ] {
            let fast = Timestamp::parse_canonical(text.as_bytes()).unwrap();
            let full = OffsetDateTime::parse(text, &Rfc3339).unwrap();
            assert_eq!(fast.0, full, "{text}");
            assert_eq!(fast.to_string(), text);
        }
        for not_canonical in [
            "2023-02-29T13:22:49.061281000Z",
            "2023-04-27T24:22:49.061281000Z",
            "2023-04-27 13:22:49.061281000Z",
            "2023-04-27T13:22:49.06128100+Z",
            "2023-04-27T13:22:49.061281000z",
        ] {
            assert!(
                Timestamp::parse_canonical(not_canonical.as_bytes()).is_none(),
                "{not_canonical}"
            );
        }
        assert!(Timestamp::parse("2023-02-29T13:22:49.061281000Z").is_err());
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "2024-01-02", "yesterday", "2024-13-02T03:04:05Z"] {
            assert!(
                matches!(Timestamp::parse(bad), Err(InvalidInput::Timestamp { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn offsets_that_leave_the_range_are_errors_not_panics() {
        for edge in ["9999-12-31T23:30:00-01:00", "0000-01-01T00:00:00+01:00"] {
            assert!(Timestamp::parse(edge).is_err(), "{edge}");
        }
        let max = Timestamp::parse("9999-12-31T23:59:59.999999999Z").unwrap();
        assert_eq!(max, Timestamp::MAX);
        assert_eq!(max.saturating_add(Duration::from_secs(1)), Timestamp::MAX);
        assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00.000000000Z");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(Timestamp::from(far), Timestamp::MAX);
    }

    #[test]
    fn system_times_before_the_epoch_and_beyond_the_range() {
        // wasm32-unknown-unknown's SystemTime is a duration since the epoch:
        // it has no time before it to convert. Everywhere else it has.
        let no_time_before_the_epoch = cfg!(all(target_family = "wasm", target_os = "unknown"));
        // 1969-12-31T23:59:58.5Z is 1.5 s before the epoch (hand-computed).
        match SystemTime::UNIX_EPOCH.checked_sub(Duration::from_millis(1_500)) {
            Some(before) => {
                let t = Timestamp::from(before);
                assert_eq!(t.unix_nanos(), -1_500_000_000);
                assert_eq!(t.to_string(), "1969-12-31T23:59:58.500000000Z");
            }
            None => assert!(no_time_before_the_epoch),
        }
        // Year 0000 is 62,167,219,200 s before the epoch; further back saturates at MIN.
        match SystemTime::UNIX_EPOCH.checked_sub(Duration::from_secs(62_167_219_200 + 86_400)) {
            Some(ancient) => assert_eq!(Timestamp::from(ancient), Timestamp::MIN),
            None => assert!(no_time_before_the_epoch),
        }
        assert_eq!(Timestamp::MIN.unix_nanos(), -62_167_219_200_000_000_000);
    }

    #[test]
    fn duration_since_counts_forward_and_is_zero_backward() {
        let a = Timestamp::parse("2024-01-02T03:04:05.000000000Z").unwrap();
        let b = Timestamp::parse("2024-01-02T03:05:06.250000000Z").unwrap();
        assert_eq!(b.duration_since(a), Duration::from_millis(61_250));
        assert_eq!(a.duration_since(b), Duration::ZERO);
    }

    #[test]
    fn debug_and_type_errors_name_the_timestamp() {
        let t = Timestamp::parse("2024-01-02T03:04:05Z").unwrap();
        assert_eq!(
            format!("{t:?}"),
            "Timestamp(2024-01-02T03:04:05.000000000Z)"
        );
        let err = serde_json::from_str::<Timestamp>("5").unwrap_err();
        assert!(
            err.to_string().contains("expected an RFC 3339 timestamp"),
            "{err}"
        );
    }

    #[test]
    fn nanos_round_trip() {
        let t = Timestamp::from_unix_nanos(1_682_601_769_061_281_000).unwrap();
        assert_eq!(t.to_string(), "2023-04-27T13:22:49.061281000Z");
        assert_eq!(t.unix_nanos(), 1_682_601_769_061_281_000);
    }
}
