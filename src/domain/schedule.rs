//! Rotation schedules (spec §4.5): `AutomaticallyAfterDays`, `rate()` and AWS's six-field
//! `cron()` dialect, with `Duration` windows; validation with messages that say what is wrong,
//! and the next rotation window after a given time. All times are UTC epoch milliseconds.
//!
//! AWS's exact texts for bad schedules are unrecorded (spec §10). The messages start with the
//! candidates the spec found ("Invalid schedule expression.", "Rate in hour should be ...") and
//! then say precisely what failed.

use std::collections::BTreeSet;

use super::secret::RotationRules;
use crate::clock::{MILLIS_PER_DAY, Millis};
use crate::error::{Error, Result};

const MILLIS_PER_HOUR: i64 = 3_600_000;
/// How far ahead a cron() schedule is searched for its next firing (a Feb-29-only schedule
/// fires within eight years).
const CRON_SEARCH_DAYS: i64 = 366 * 8 + 2;

/// A validated schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// The UTC day N days after the last rotation.
    EveryDays(i64),
    /// `rate(N hours)`: windows start at midnight and every N hours after.
    RateHours(i64),
    /// `rate(N days)`.
    RateDays(i64),
    Cron(Cron),
}

/// A rotation window: the rotation happens at some time in `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Millis,
    pub end: Millis,
}

/// Validated rotation rules: a schedule and the window length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSchedule {
    pub schedule: Schedule,
    /// `Duration` in hours, if given.
    pub duration_hours: Option<i64>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidParameter(message.into())
}

impl RotationSchedule {
    /// Validates `RotationRules` as RotateSecret must before storing anything.
    pub fn parse(rules: &RotationRules) -> Result<RotationSchedule> {
        let schedule = match (&rules.automatically_after_days, &rules.schedule_expression) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "You cannot specify both rotation frequency and schedule expression together.",
                ));
            }
            (Some(days), None) => {
                if !(1..=1000).contains(days) {
                    return Err(invalid(
                        "RotationRules.AutomaticallyAfterDays must be within 1-1000.",
                    ));
                }
                Schedule::EveryDays(*days)
            }
            (None, Some(expr)) => parse_expression(expr.trim())?,
            (None, None) => {
                return Err(invalid(
                    "RotationRules must contain AutomaticallyAfterDays or ScheduleExpression.",
                ));
            }
        };
        let duration_hours = rules.duration.as_deref().map(parse_duration).transpose()?;
        let s = RotationSchedule {
            schedule,
            duration_hours,
        };
        s.check_duration_fits()?;
        Ok(s)
    }

    fn check_duration_fits(&self) -> Result<()> {
        let Some(d) = self.duration_hours else {
            return Ok(());
        };
        match &self.schedule {
            Schedule::RateHours(n) if d > *n => Err(invalid(format!(
                "Duration cannot be greater than Rate in hour. A {d}h window runs into the next window of rate({n} hours)."
            ))),
            Schedule::Cron(c) => match c.hours.iter().find(|h| **h as i64 + d > 24) {
                Some(h) => Err(invalid(format!(
                    "Starting hour and duration must be within a day. A {d}h window starting at {h}:00 UTC runs into the next day."
                ))),
                None => match c.min_gap_hours() {
                    Some(gap) if d > gap => Err(invalid(format!(
                        "Duration cannot be greater than the time between rotations: a {d}h window runs into the next window, {gap}h later."
                    ))),
                    _ => Ok(()),
                },
            },
            _ => Ok(()),
        }
    }

    /// Whole days between rotations, at least 1: what AWS reports as AutomaticallyAfterDays
    /// for a ScheduleExpression after a successful rotation (`rate(10 hours)` reads back as 1,
    /// spec §4.5). For cron(), the gap between the next two firings after `after`.
    pub fn interval_days(&self, after: Millis) -> i64 {
        match &self.schedule {
            Schedule::EveryDays(n) | Schedule::RateDays(n) => *n,
            Schedule::RateHours(_) => 1,
            Schedule::Cron(_) => {
                let gap = self.next_window(after).and_then(|first| {
                    self.next_window(first.start)
                        .map(|second| second.start.0 - first.start.0)
                });
                gap.map_or(1, |g| (g / MILLIS_PER_DAY).max(1))
            }
        }
    }

    /// The first window that starts after `after` (for a schedule counted from the last
    /// rotation, `after` is that rotation). `None` only for a cron() that never fires.
    pub fn next_window(&self, after: Millis) -> Option<Window> {
        let day = after.start_of_day();
        let (start, default_len) = match &self.schedule {
            Schedule::EveryDays(n) | Schedule::RateDays(n) => (day.plus_days(*n), MILLIS_PER_DAY),
            Schedule::RateHours(n) => {
                let step = n * MILLIS_PER_HOUR;
                // Windows start at midnight and every N hours, restarting each day.
                let mut start = day.0;
                while start <= after.0 {
                    start += step;
                    if start >= day.0 + MILLIS_PER_DAY {
                        start = day.0 + MILLIS_PER_DAY;
                        break;
                    }
                }
                (Millis(start), MILLIS_PER_HOUR)
            }
            Schedule::Cron(c) => {
                let start = c.next_after(after)?;
                let len = if c.is_hourly() {
                    MILLIS_PER_HOUR
                } else {
                    // A daily schedule's window runs to the end of its day.
                    start.start_of_day().0 + MILLIS_PER_DAY - start.0
                };
                (start, len)
            }
        };
        let len = self
            .duration_hours
            .map(|h| h * MILLIS_PER_HOUR)
            .unwrap_or(default_len);
        // "On or before this date": the last second of the window.
        Some(Window {
            start,
            end: Millis(start.0 + len - 1000),
        })
    }
}

fn parse_duration(d: &str) -> Result<i64> {
    let hours = d
        .strip_suffix('h')
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| {
            invalid(format!(
                "Duration must be a number of hours such as \"3h\", not \"{d}\"."
            ))
        })?;
    if !(1..=24).contains(&hours) {
        return Err(invalid(format!(
            "Duration must be at least 1 hour, at most 24 hour. Got {hours}h."
        )));
    }
    Ok(hours)
}

fn parse_expression(expr: &str) -> Result<Schedule> {
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return parse_rate(inner.trim());
    }
    if let Some(inner) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return Cron::parse(inner.trim()).map(Schedule::Cron);
    }
    Err(invalid(format!(
        "Invalid schedule expression. \"{expr}\" is neither rate(<number> hours|days) nor cron(<six fields>)."
    )))
}

fn parse_rate(inner: &str) -> Result<Schedule> {
    let mut parts = inner.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(format!(
            "Invalid schedule expression. rate({inner}) must be rate(<number> hours|days)."
        )));
    };
    let n: i64 = n.parse().map_err(|_| {
        invalid(format!(
            "Invalid schedule expression. \"{n}\" in rate() is not a whole number."
        ))
    })?;
    match unit {
        "hour" | "hours" => {
            if !(4..24).contains(&n) {
                return Err(invalid(format!(
                    "Rate in hour should be least 4 and less than 24. Got rate({n} {unit})."
                )));
            }
            Ok(Schedule::RateHours(n))
        }
        "day" | "days" => {
            if !(1..1000).contains(&n) {
                return Err(invalid(format!(
                    "Rate in day should be greater than 0 and less than 1000. Got rate({n} {unit})."
                )));
            }
            Ok(Schedule::RateDays(n))
        }
        other => Err(invalid(format!(
            "Invalid schedule expression. The unit of rate() must be hours or days, not \"{other}\"."
        ))),
    }
}

/// Which days a cron() expression fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DayRule {
    /// Days of the month (1-31); `last` for `L`.
    MonthDays {
        days: BTreeSet<u32>,
        last: bool,
    },
    /// Days of the week (1 = Sunday ... 7 = Saturday), an nth weekday (`6#3`), or the last
    /// given weekday of the month (`5L`).
    WeekDays {
        days: BTreeSet<u32>,
    },
    NthWeekDay {
        weekday: u32,
        nth: u32,
    },
    LastWeekDay {
        weekday: u32,
    },
}

/// AWS's cron(Minutes Hours Day-of-month Month Day-of-week Year), with minutes 0 and year `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    hours: BTreeSet<u32>,
    hours_field: String,
    months: BTreeSet<u32>,
    days: DayRule,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn bad_cron(field: &str, value: &str, why: &str) -> Error {
    invalid(format!(
        "Invalid schedule expression. The {field} field \"{value}\" of cron() {why}."
    ))
}

/// Parses a list field (`a,b`, `a-b`, `*`, `a/n`, `*/n`, `a-b/n`) into its values in `lo..=hi`.
fn parse_list(field: &str, value: &str, lo: u32, hi: u32, names: &[&str]) -> Result<BTreeSet<u32>> {
    let number = |s: &str| -> Result<u32> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(lo + i as u32);
        }
        let n: u32 = s
            .parse()
            .map_err(|_| bad_cron(field, value, &format!("has \"{s}\", which is not a number")))?;
        if !(lo..=hi).contains(&n) {
            return Err(bad_cron(
                field,
                value,
                &format!("has {n}, outside {lo}-{hi}"),
            ));
        }
        Ok(n)
    };
    let mut out = BTreeSet::new();
    for part in value.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    bad_cron(
                        field,
                        value,
                        &format!("has the increment \"{s}\", which is not a positive number"),
                    )
                })?;
                (r, step)
            }
            None => (part, 1),
        };
        let (start, end) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                // "a/n" runs from a to the end of the range.
                None if step > 1 => (number(r)?, hi),
                None => {
                    let n = number(r)?;
                    (n, n)
                }
            },
        };
        if start > end {
            return Err(bad_cron(
                field,
                value,
                &format!("has the range {start}-{end}, which runs backwards"),
            ));
        }
        out.extend((start..=end).step_by(step as usize));
    }
    Ok(out)
}

impl Cron {
    fn parse(inner: &str) -> Result<Cron> {
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields[..] else {
            return Err(invalid(format!(
                "Invalid schedule expression. cron() takes six fields (minutes hours day-of-month month day-of-week year); cron({inner}) has {}.",
                fields.len()
            )));
        };
        if minutes != "0" {
            return Err(bad_cron(
                "minutes",
                minutes,
                "must be 0: rotations are scheduled on the hour",
            ));
        }
        if year != "*" {
            return Err(bad_cron("year", year, "must be *"));
        }
        if (dom == "?") == (dow == "?") {
            return Err(invalid(format!(
                "Invalid schedule expression. Exactly one of the day-of-month (\"{dom}\") and day-of-week (\"{dow}\") fields of cron() must be ?."
            )));
        }
        let hours_set = parse_list("hours", hours, 0, 23, &[])?;
        let months = parse_list("month", month, 1, 12, &MONTHS)?;
        let days = if dow == "?" {
            if dom == "L" {
                DayRule::MonthDays {
                    days: BTreeSet::new(),
                    last: true,
                }
            } else {
                DayRule::MonthDays {
                    days: parse_list("day-of-month", dom, 1, 31, &[])?,
                    last: false,
                }
            }
        } else if let Some((d, n)) = dow.split_once('#') {
            let weekday = parse_list("day-of-week", d, 1, 7, &WEEKDAYS)?;
            let nth: u32 = n
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| {
                    bad_cron("day-of-week", dow, "has an occurrence after # outside 1-5")
                })?;
            match weekday.iter().next() {
                Some(w) if weekday.len() == 1 => DayRule::NthWeekDay { weekday: *w, nth },
                _ => {
                    return Err(bad_cron(
                        "day-of-week",
                        dow,
                        "must name one weekday before #",
                    ));
                }
            }
        } else if dow == "L" {
            // A bare L in day-of-week is Saturday, the week's last day.
            DayRule::WeekDays {
                days: BTreeSet::from([7]),
            }
        } else if let Some(d) = dow.strip_suffix('L') {
            let weekday = parse_list("day-of-week", d, 1, 7, &WEEKDAYS)?;
            match weekday.iter().next() {
                Some(w) if weekday.len() == 1 => DayRule::LastWeekDay { weekday: *w },
                _ => {
                    return Err(bad_cron(
                        "day-of-week",
                        dow,
                        "must name one weekday before L",
                    ));
                }
            }
        } else {
            DayRule::WeekDays {
                days: parse_list("day-of-week", dow, 1, 7, &WEEKDAYS)?,
            }
        };
        let cron = Cron {
            hours: hours_set,
            hours_field: hours.to_owned(),
            months,
            days,
        };
        if let Some(gap) = cron.min_gap_hours()
            && gap < 4
        {
            return Err(bad_cron(
                "hours",
                hours,
                &format!("fires {gap}h apart; rotations must be at least four hours apart"),
            ));
        }
        Ok(cron)
    }

    /// The shortest gap between two firings on the same day, and across midnight when the
    /// schedule fires every day; `None` for a single firing a day.
    fn min_gap_hours(&self) -> Option<i64> {
        let hours: Vec<i64> = self.hours.iter().map(|h| *h as i64).collect();
        if hours.len() < 2 {
            return None;
        }
        let mut gap = hours.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(24);
        let every_day = matches!(&self.days, DayRule::WeekDays { days } if days.len() == 7)
            || matches!(&self.days, DayRule::MonthDays { days, last: false } if days.len() == 31);
        if every_day {
            gap = gap.min(24 - hours[hours.len() - 1] + hours[0]);
        }
        Some(gap)
    }

    /// Several firings a day (a 1-hour default window) or one (a window to the day's end).
    fn is_hourly(&self) -> bool {
        self.hours.len() > 1 || self.hours_field.contains(['*', '/', ',', '-'])
    }

    fn fires_on(&self, date: jiff::civil::Date) -> bool {
        if !self.months.contains(&(date.month() as u32)) {
            return false;
        }
        let weekday = date.weekday().to_sunday_one_offset() as u32;
        let day = date.day() as u32;
        let last_day = date.last_of_month().day() as u32;
        match &self.days {
            DayRule::MonthDays { days, last } => days.contains(&day) || (*last && day == last_day),
            DayRule::WeekDays { days } => days.contains(&weekday),
            DayRule::NthWeekDay { weekday: w, nth } => weekday == *w && (day - 1) / 7 + 1 == *nth,
            DayRule::LastWeekDay { weekday: w } => weekday == *w && day + 7 > last_day,
        }
    }

    /// The first firing strictly after `after`.
    fn next_after(&self, after: Millis) -> Option<Millis> {
        let first_day = after.start_of_day();
        for d in 0..CRON_SEARCH_DAYS {
            let day_start = first_day.plus_days(d);
            let date = jiff::Timestamp::from_millisecond(day_start.0)
                .ok()?
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            if !self.fires_on(date) {
                continue;
            }
            for h in &self.hours {
                let t = day_start.0 + *h as i64 * MILLIS_PER_HOUR;
                if t > after.0 {
                    return Some(Millis(t));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(days: Option<i64>, expr: Option<&str>, duration: Option<&str>) -> RotationRules {
        RotationRules {
            automatically_after_days: days,
            schedule_expression: expr.map(str::to_owned),
            duration: duration.map(str::to_owned),
        }
    }

    fn ms(iso: &str) -> Millis {
        Millis(iso.parse::<jiff::Timestamp>().unwrap().as_millisecond())
    }

    fn window(r: RotationRules, after: &str) -> (String, String) {
        let w = RotationSchedule::parse(&r)
            .unwrap()
            .next_window(ms(after))
            .unwrap();
        let fmt = |m: Millis| jiff::Timestamp::from_millisecond(m.0).unwrap().to_string();
        (fmt(w.start), fmt(w.end))
    }

    fn message(r: RotationRules) -> String {
        match RotationSchedule::parse(&r) {
            Err(Error::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameterException, got {other:?}"),
        }
    }

    #[test]
    fn days_and_a_schedule_together_are_refused_with_aws_text() {
        assert_eq!(
            message(rules(Some(10), Some("rate(10 days)"), None)),
            "You cannot specify both rotation frequency and schedule expression together."
        );
    }

    #[test]
    fn automatically_after_days_falls_on_the_utc_day_n_days_later() {
        // LastRotatedDate 2026-02-03, N=30: on or before 2026-03-05T23:59:59Z (spec §4.5).
        assert_eq!(
            window(rules(Some(30), None, None), "2026-02-03T14:20:00Z"),
            ("2026-03-05T00:00:00Z".into(), "2026-03-05T23:59:59Z".into())
        );
    }

    #[test]
    fn a_duration_shortens_the_window() {
        assert_eq!(
            window(rules(Some(1), None, Some("3h")), "2026-02-03T14:20:00Z"),
            ("2026-02-04T00:00:00Z".into(), "2026-02-04T02:59:59Z".into())
        );
    }

    #[test]
    fn rate_hours_windows_start_at_midnight_and_every_n_hours() {
        assert_eq!(
            window(
                rules(None, Some("rate(10 hours)"), None),
                "2026-02-03T11:00:00Z"
            ),
            ("2026-02-03T20:00:00Z".into(), "2026-02-03T20:59:59Z".into())
        );
        // The schedule restarts at midnight rather than running on from 20:00.
        assert_eq!(
            window(
                rules(None, Some("rate(10 hours)"), None),
                "2026-02-03T21:00:00Z"
            )
            .0,
            "2026-02-04T00:00:00Z"
        );
    }

    #[test]
    fn rate_limits_are_enforced() {
        assert!(
            message(rules(None, Some("rate(3 hours)"), None))
                .starts_with("Rate in hour should be least 4 and less than 24.")
        );
        assert!(
            message(rules(None, Some("rate(24 hours)"), None))
                .starts_with("Rate in hour should be least 4")
        );
        assert!(
            message(rules(None, Some("rate(1000 days)"), None))
                .starts_with("Rate in day should be greater than 0 and less than 1000.")
        );
        assert!(message(rules(None, Some("rate(5 weeks)"), None)).contains("hours or days"));
        assert!(message(rules(None, Some("rate(five days)"), None)).contains("not a whole number"));
        assert!(RotationSchedule::parse(&rules(None, Some("rate(1 day)"), None)).is_ok());
    }

    #[test]
    fn cron_needs_minutes_zero_year_star_and_exactly_one_question_mark() {
        assert!(
            message(rules(None, Some("cron(5 16 ? * SUN *)"), None))
                .contains("minutes field \"5\"")
        );
        assert!(message(rules(None, Some("cron(0 16 ? * SUN 2027)"), None)).contains("year field"));
        assert!(message(rules(None, Some("cron(0 16 * * SUN *)"), None)).contains("Exactly one"));
        assert!(message(rules(None, Some("cron(0 16 ? * ? *)"), None)).contains("Exactly one"));
        assert!(message(rules(None, Some("cron(0 16 ? *)"), None)).contains("six fields"));
        assert!(message(rules(None, Some("cron(0 25 ? * SUN *)"), None)).contains("outside 0-23"));
        assert!(
            message(rules(None, Some("every sunday"), None))
                .starts_with("Invalid schedule expression.")
        );
    }

    #[test]
    fn cron_rotations_must_be_four_hours_apart() {
        assert!(
            message(rules(None, Some("cron(0 */2 * * ? *)"), None))
                .contains("at least four hours apart")
        );
        assert!(
            message(rules(None, Some("cron(0 1,22 * * ? *)"), None)).contains("3h apart"),
            "across midnight"
        );
        assert!(RotationSchedule::parse(&rules(None, Some("cron(0 4/12 * * ? *)"), None)).is_ok());
    }

    #[test]
    fn cron_next_firing_on_weekdays_nth_and_last() {
        // 2026-02-03 is a Tuesday.
        assert_eq!(
            window(
                rules(None, Some("cron(0 16 ? * SUN *)"), None),
                "2026-02-03T00:00:00Z"
            ),
            ("2026-02-08T16:00:00Z".into(), "2026-02-08T23:59:59Z".into())
        );
        // The third Friday of February 2026 is the 20th.
        assert_eq!(
            window(
                rules(None, Some("cron(0 8 ? * 6#3 *)"), None),
                "2026-02-03T00:00:00Z"
            )
            .0,
            "2026-02-20T08:00:00Z"
        );
        // The last Thursday of February 2026 is the 26th.
        assert_eq!(
            window(
                rules(None, Some("cron(0 8 ? * 5L *)"), None),
                "2026-02-03T00:00:00Z"
            )
            .0,
            "2026-02-26T08:00:00Z"
        );
        // The last day of the month.
        assert_eq!(
            window(
                rules(None, Some("cron(0 0 L * ? *)"), None),
                "2026-02-03T00:00:00Z"
            )
            .0,
            "2026-02-28T00:00:00Z"
        );
        // Hourly schedules get a one-hour window, or their Duration.
        assert_eq!(
            window(
                rules(None, Some("cron(0 4/12 * * ? *)"), Some("2h")),
                "2026-02-03T05:00:00Z"
            ),
            ("2026-02-03T16:00:00Z".into(), "2026-02-03T17:59:59Z".into())
        );
        // Month names and a schedule that fires once a year.
        assert_eq!(
            window(
                rules(None, Some("cron(0 9 29 FEB ? *)"), None),
                "2026-03-01T00:00:00Z"
            )
            .0,
            "2028-02-29T09:00:00Z"
        );
    }

    #[test]
    fn durations_must_fit_the_day_and_the_schedule() {
        assert!(
            message(rules(Some(1), None, Some("25h")))
                .starts_with("Duration must be at least 1 hour, at most 24 hour.")
        );
        assert!(
            message(rules(Some(1), None, Some("0h")))
                .starts_with("Duration must be at least 1 hour")
        );
        assert!(
            message(rules(None, Some("rate(6 hours)"), Some("7h")))
                .starts_with("Duration cannot be greater than Rate in hour.")
        );
        assert!(
            message(rules(None, Some("cron(0 22 ? * SUN *)"), Some("3h")))
                .starts_with("Starting hour and duration must be within a day.")
        );
        assert!(
            message(rules(None, Some("cron(0 2,10 * * ? *)"), Some("9h")))
                .contains("runs into the next window")
        );
    }

    #[test]
    fn a_schedule_expression_reports_its_days_between_rotations() {
        let at = Millis(1_772_359_200_000);
        let days = |expr: &str| {
            RotationSchedule::parse(&RotationRules {
                schedule_expression: Some(expr.into()),
                ..Default::default()
            })
            .unwrap()
            .interval_days(at)
        };
        assert_eq!(days("rate(10 hours)"), 1);
        assert_eq!(days("rate(10 days)"), 10);
        assert_eq!(days("cron(0 12 * * ? *)"), 1);
        assert_eq!(days("cron(0 12 ? * MON *)"), 7);
    }
}
