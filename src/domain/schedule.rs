//! When a reminder runs, parsed once: exactly one of `at`, `cron`, `rate`
//! or `every`, the `timezone` it is read in (default UTC) and an optional
//! `start`/`end`. What comes out is what EventBridge Scheduler takes (a
//! schedule expression and a time zone name) and can say when it next
//! runs, so that a caller is told at once, not when Scheduler refuses.
//!
//! Daylight saving time follows what EventBridge Scheduler documents for
//! schedules in a time zone: a cron local time that the clocks skip (spring
//! forward) does not run that day, and one that happens twice (autumn back)
//! runs once only, at its first occurrence. A `rate` is elapsed time and
//! ignores the clocks: `rate(1 day)` is every 24 hours. An `at` that names
//! a skipped local time is refused (Scheduler does not say what it would
//! do); one that names a repeated time means the first.
//!
//! Cron is evaluated here rather than with a crate: the best kept Rust cron
//! crate, croner, reads Vixie/POSIX cron (optional seconds, no year field,
//! day-of-month OR day-of-week) through chrono and chrono-tz, while
//! Scheduler's dialect is Quartz's (six fields ending in a year, `?` in
//! exactly one day field, `L`/`W`/`#`). Mapping one onto the other would
//! not be straightforward, and would bring chrono and a second time-zone
//! database next to jiff's. The
//! evaluator walks month by month, takes the matching days of each month
//! from the day rule, then only the listed hours and minutes: never minute
//! by minute.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

/// Longest text read for any one schedule field; longer is refused before
/// any work.
const MAX_FIELD_CHARS: usize = 256;

/// First year a Scheduler cron expression may name.
const FIRST_YEAR: i16 = 1970;

/// Last year a Scheduler cron expression may name.
const LAST_YEAR: i16 = 2199;

/// Why a reminder's schedule cannot be used. Each message starts with the
/// request field at fault and says plainly what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// None of `at`, `cron`, `rate`, `every` was given.
    #[error(
        "give one of at (a local date-time), cron, rate or every (such as {{\"weekdays\": [\"mon\"], \"time\": \"09:55\"}})"
    )]
    NoWhen,
    /// More than one of them: which one was meant is not guessed.
    #[error("give only one of at, cron, rate or every (got {0} and {1})")]
    TwoWhens(&'static str, &'static str),
    /// `at` is malformed, in the past, or a local time that does not exist.
    #[error("at: {0}")]
    At(String),
    /// `cron` is not a valid Scheduler cron expression, or never runs.
    #[error("cron: {0}")]
    Cron(String),
    /// `rate` is not a valid Scheduler rate expression.
    #[error("rate: {0}")]
    Rate(String),
    /// `every` is not one of the friendly shapes, or never runs.
    #[error("every: {0}")]
    Every(String),
    /// `timezone` is not an IANA time zone name.
    #[error("timezone: {0}")]
    Timezone(String),
    /// `start` is malformed or does not fit the schedule.
    #[error("start: {0}")]
    Start(String),
    /// `end` is malformed, in the past, not after `start`, or leaves no run.
    #[error("end: {0}")]
    End(String),
}

impl ScheduleError {
    /// `why`, said of the text field `name` (the reverse of
    /// [`ScheduleError::field`]).
    fn of_field(name: &str, why: &str) -> Self {
        let why = why.to_string();
        match name {
            "at" => Self::At(why),
            "cron" => Self::Cron(why),
            "rate" => Self::Rate(why),
            "timezone" => Self::Timezone(why),
            "start" => Self::Start(why),
            _ => Self::End(why),
        }
    }

    /// The request field at fault, for answers that point at it (the
    /// choice among `at`/`cron`/`rate`/`every` itself: `"at"`, the first).
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoWhen | Self::TwoWhens(..) | Self::At(_) => "at",
            Self::Cron(_) => "cron",
            Self::Rate(_) => "rate",
            Self::Every(_) => "every",
            Self::Timezone(_) => "timezone",
            Self::Start(_) => "start",
            Self::End(_) => "end",
        }
    }
}

/// The schedule fields of a reminder request as the payload carries them,
/// borrowed; `None` (or a JSON `null` for `every`) means absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScheduleInput<'a> {
    /// One time, as a local date-time (`2026-12-24T09:00[:00]`).
    pub at: Option<&'a str>,
    /// A Scheduler cron expression, `cron(...)` or its six fields alone.
    pub cron: Option<&'a str>,
    /// A Scheduler rate expression, `rate(...)` or its two words alone.
    pub rate: Option<&'a str>,
    /// The friendly object: see [`Every::parse`].
    pub every: Option<&'a Value>,
    /// An IANA time zone name; UTC when absent.
    pub timezone: Option<&'a str>,
    /// A local date-time before which a recurring schedule does not run.
    pub start: Option<&'a str>,
    /// A local date-time from which a recurring schedule no longer runs.
    pub end: Option<&'a str>,
}

/// A time zone Scheduler and jiff both know, by its IANA name.
///
/// The rules come from the tz database bundled into the binary (jiff's
/// `tzdb-bundle-always`), never the host's: the Lambda image may have none,
/// and what is checked here is then what runs there.
#[derive(Debug, Clone)]
pub struct Timezone {
    zone: TimeZone,
    name: String,
}

impl Timezone {
    /// Looks the name up (ASCII case aside: `europe/london` is kept as
    /// `Europe/London`, the spelling Scheduler expects).
    pub fn parse(name: &str) -> Result<Self, ScheduleError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ScheduleError::Timezone(
                "is empty; give an IANA name such as Europe/London, or leave it out for UTC".into(),
            ));
        }
        let unknown = || {
            ScheduleError::Timezone(format!(
                "{} is not an IANA time zone name (such as Europe/London or America/New_York)",
                shown(name)
            ))
        };
        if name.len() > 64 {
            return Err(unknown());
        }
        let zone = TimeZone::get(name).map_err(|_| unknown())?;
        // jiff answers `Etc/Unknown` with a placeholder zone: not a real one.
        let canonical = zone
            .iana_name()
            .filter(|canonical| *canonical != "Etc/Unknown")
            .ok_or_else(unknown)?
            .to_string();
        Ok(Self {
            zone,
            name: canonical,
        })
    }

    /// UTC, the default when a request names no time zone.
    pub fn utc() -> Self {
        Self {
            zone: TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    /// The IANA name, as Scheduler's `ScheduleExpressionTimezone` takes it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's rules, for turning local times into instants.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::utc()
    }
}

/// Two time zones are the same when they have the same name.
impl PartialEq for Timezone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Timezone {}

/// A set of small numbers, one bit each: minutes, hours, days of a month
/// (from 1), months (from 1), weekdays (Sunday 1) or years (from 1970),
/// each kept as its offset from the field's first value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bits([u64; 4]);

impl Bits {
    fn insert(&mut self, index: u16) {
        if let Some(word) = self.0.get_mut(usize::from(index / 64)) {
            *word |= 1 << (index % 64);
        }
    }

    fn contains(&self, index: u16) -> bool {
        self.0
            .get(usize::from(index / 64))
            .is_some_and(|word| (word >> (index % 64)) & 1 == 1)
    }

    /// The members below `limit`, smallest first.
    fn members(self, limit: u16) -> impl Iterator<Item = u16> {
        (0..limit).filter(move |&index| self.contains(index))
    }
}

/// One field of a cron expression: its name in messages, its range, its
/// names (JAN-DEC, SUN-SAT) and whether `/` increments are allowed.
struct Field {
    name: &'static str,
    min: u16,
    max: u16,
    names: &'static [&'static str],
    steps: bool,
}

const MINUTES: Field = Field {
    name: "minutes",
    min: 0,
    max: 59,
    names: &[],
    steps: true,
};

const HOURS: Field = Field {
    name: "hours",
    min: 0,
    max: 23,
    names: &[],
    steps: true,
};

const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    steps: true,
};

const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    steps: true,
};

/// Scheduler lists no `/` among day-of-week's wildcards.
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 1,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    steps: false,
};

const YEAR: Field = Field {
    name: "year",
    min: 1970,
    max: 2199,
    names: &[],
    steps: true,
};

/// Which days of a month the day-of-month field picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MonthDays {
    /// Listed days (offset from 1); a day the month lacks never runs.
    Set(Bits),
    /// `L`: the month's last day.
    Last,
    /// `LW`: the month's last weekday (Monday to Friday).
    LastWeekday,
    /// `15W`: the weekday nearest the 15th, within the month.
    NearestWeekday(i8),
}

/// Which days of a month the day-of-week field picks (Sunday is 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeekDays {
    /// Listed weekdays (offset from Sunday); `L` alone is Saturday.
    Set(Bits),
    /// `6L`: the last such weekday of the month.
    Last(i8),
    /// `3#2`: the second such weekday of the month (1 to 5).
    Nth(i8, i8),
}

/// The day rule: exactly one of the two day fields says which days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRule {
    Month(MonthDays),
    Week(WeekDays),
}

impl DayRule {
    /// The days of `year`-`month` that match, as offsets from the 1st.
    fn days_in(&self, year: i16, month: i8) -> Bits {
        let mut days = Bits::default();
        let Ok(first) = Date::new(year, month, 1) else {
            return days;
        };
        let last = first.days_in_month();
        let first_weekday = first.weekday().to_sunday_one_offset();
        // Sunday 1 .. Saturday 7, as cron counts.
        let weekday = |day: i8| (first_weekday - 1 + day - 1) % 7 + 1;
        let mut add = |day: i8| {
            if (1..=last).contains(&day) {
                days.insert((day - 1).unsigned_abs().into());
            }
        };
        match *self {
            Self::Month(MonthDays::Set(set)) => {
                for day in 1..=last {
                    if set.contains((day - 1).unsigned_abs().into()) {
                        add(day);
                    }
                }
            }
            Self::Month(MonthDays::Last) => add(last),
            Self::Month(MonthDays::LastWeekday) => add(match weekday(last) {
                7 => last - 1,
                1 => last - 2,
                _ => last,
            }),
            // Quartz's rule: never into the next or previous month.
            Self::Month(MonthDays::NearestWeekday(day)) if day <= last => add(match weekday(day) {
                7 if day == 1 => 3,
                7 => day - 1,
                1 if day == last => day - 2,
                1 => day + 1,
                _ => day,
            }),
            Self::Month(MonthDays::NearestWeekday(_)) => {}
            Self::Week(WeekDays::Set(set)) => {
                for day in 1..=last {
                    if set.contains((weekday(day) - 1).unsigned_abs().into()) {
                        add(day);
                    }
                }
            }
            Self::Week(WeekDays::Last(wanted)) => add(last - (weekday(last) - wanted + 7) % 7),
            Self::Week(WeekDays::Nth(wanted, nth)) => {
                add(1 + (wanted - first_weekday + 7) % 7 + 7 * (nth - 1));
            }
        }
        days
    }
}

/// A Scheduler cron expression, checked field by field as AWS documents it:
/// `cron(minutes hours day-of-month month day-of-week year)`, `?` in exactly
/// one of the day fields, `L`, `W`, `#`, ranges, lists, `/` increments (not
/// in day-of-week), JAN-DEC and SUN-SAT (day-of-week 1-7 is SUN-SAT).
///
/// Scheduler refuses crons that run more often than once a minute; with
/// minutes the finest field, none can, so there is nothing more to check.
/// `L`, `LW`, `nW`, `nL` and `n#k` stand alone in their field (Quartz's
/// rule; AWS says so of `#`). A backward range such as `FRI-MON` is refused
/// rather than read as wrapping around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    minutes: Vec<i8>,
    hours: Vec<i8>,
    days: DayRule,
    months: Bits,
    years: Bits,
    fields: String,
}

impl CronExpr {
    /// Reads `cron(...)`, or the six fields alone; names in any ASCII case.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        Self::parse_fields(text).map_err(ScheduleError::Cron)
    }

    fn parse_fields(text: &str) -> Result<Self, String> {
        if text.chars().count() > MAX_FIELD_CHARS {
            return Err(format!("is longer than {MAX_FIELD_CHARS} characters"));
        }
        let body = call_body(text, "cron").ok_or_else(|| {
            "must look like cron(minutes hours day-of-month month day-of-week year), \
             such as cron(55 9 ? * MON-FRI *)"
                .to_string()
        })?;
        let upper = body.to_ascii_uppercase();
        let fields: Vec<&str> = upper.split_ascii_whitespace().collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields[..] else {
            return Err(format!(
                "has {} fields; it needs 6: minutes hours day-of-month month day-of-week year \
                 (such as cron(55 9 ? * MON-FRI *))",
                fields.len()
            ));
        };
        let minutes = parse_list(&MINUTES, minutes)?;
        let hours = parse_list(&HOURS, hours)?;
        let month_days = parse_day_of_month(day_of_month)?;
        let months = parse_list(&MONTH, month)?;
        let week_days = parse_day_of_week(day_of_week)?;
        let years = parse_list(&YEAR, year)?;
        let days = match (month_days, week_days) {
            (Some(_), Some(_)) => {
                return Err(
                    "day-of-month and day-of-week cannot both be set; one must be ?".to_string(),
                );
            }
            (None, None) => {
                return Err(
                    "day-of-month and day-of-week cannot both be ?; one of them must say which days"
                        .to_string(),
                );
            }
            (Some(month_days), None) => DayRule::Month(month_days),
            (None, Some(week_days)) => DayRule::Week(week_days),
        };
        let small = |bits: Bits, limit: u16| {
            bits.members(limit)
                .filter_map(|value| i8::try_from(value).ok())
                .collect::<Vec<_>>()
        };
        Ok(Self {
            minutes: small(minutes, 60),
            hours: small(hours, 24),
            days,
            months,
            years,
            fields: fields.join(" "),
        })
    }

    /// The expression as Scheduler takes it: `cron(55 9 ? * MON,FRI *)`
    /// (fields upper-cased, single spaces).
    pub fn expression(&self) -> String {
        format!("cron({})", self.fields)
    }

    /// The first run strictly after `after`, reading the expression in
    /// `zone`; `None` when it never runs again (up to 2199).
    ///
    /// A matching local time that the clocks skip does not run; one that
    /// happens twice runs at its first occurrence only (see the module
    /// documentation). Reading each local time as its first occurrence
    /// keeps runs in order, so the walk can start at `after`'s local time.
    pub fn next_after(&self, zone: &TimeZone, after: Timestamp) -> Option<Timestamp> {
        let local = zone.to_datetime(after);
        let from = local.date();
        for year in from.year().max(FIRST_YEAR)..=LAST_YEAR {
            if !self.years.contains((year - FIRST_YEAR).unsigned_abs()) {
                continue;
            }
            for month in 1..=12_i8 {
                if (year, month) < (from.year(), from.month())
                    || !self.months.contains((month - 1).unsigned_abs().into())
                {
                    continue;
                }
                let days = self.days.days_in(year, month);
                for offset in days.members(31) {
                    let Ok(day) = i8::try_from(offset + 1) else {
                        continue;
                    };
                    let Ok(date) = Date::new(year, month, day) else {
                        continue;
                    };
                    if date < from {
                        continue;
                    }
                    if let Some(run) = self.first_run_on(zone, date, local, after) {
                        return Some(run);
                    }
                }
            }
        }
        None
    }

    /// The first listed hour and minute of `date` that runs after `after`
    /// (`local` is `after` on the zone's clock).
    fn first_run_on(
        &self,
        zone: &TimeZone,
        date: Date,
        local: DateTime,
        after: Timestamp,
    ) -> Option<Timestamp> {
        for &hour in &self.hours {
            for &minute in &self.minutes {
                if date == local.date() && (hour, minute) < (local.hour(), local.minute()) {
                    continue;
                }
                let Ok(time) = Time::new(hour, minute, 0, 0) else {
                    continue;
                };
                if let Some(run) = first_instant(zone, date.to_datetime(time))
                    && run > after
                {
                    return Some(run);
                }
            }
        }
        None
    }
}

/// The instant a local date-time names in `zone`, read as Scheduler reads
/// a cron's times: `None` for a time the clocks skip, the first of two for
/// a time they repeat.
fn first_instant(zone: &TimeZone, local: DateTime) -> Option<Timestamp> {
    match zone.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok(),
        AmbiguousOffset::Gap { .. } => None,
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok(),
    }
}

/// The inside of `name(...)` (name in any ASCII case), or the text itself
/// when it has no brackets at all; `None` for anything else.
fn call_body<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let text = text.trim();
    let prefix_len = name.len() + 1;
    let opens = text
        .get(..prefix_len)
        .is_some_and(|open| open.eq_ignore_ascii_case(&format!("{name}(")));
    if opens {
        let inner = text.get(prefix_len..)?.strip_suffix(')')?;
        (!inner.contains(['(', ')'])).then_some(inner)
    } else {
        (!text.contains(['(', ')'])).then_some(text)
    }
}

/// A comma list of values, ranges, `*` and increments, as a set of offsets
/// from the field's first value.
fn parse_list(field: &Field, text: &str) -> Result<Bits, String> {
    let mut bits = Bits::default();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!(
                "{} has an empty item in {}",
                field.name,
                shown(text)
            ));
        }
        let (range, step) = match item.split_once('/') {
            Some(_) if !field.steps => {
                return Err(format!("{} does not take / increments", field.name));
            }
            Some((range, step)) => (range, Some(parse_step(field, step)?)),
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (field.min, field.max)
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (parse_value(field, low)?, parse_value(field, high)?);
            if low > high {
                return Err(format!(
                    "{} range {} runs backwards; list the values instead (such as 22,23,0,1)",
                    field.name,
                    shown(range)
                ));
            }
            (low, high)
        } else {
            let low = parse_value(field, range)?;
            // `5/15` is 5, 20, 35, ... to the end of the field.
            (low, if step.is_some() { field.max } else { low })
        };
        let step = step.unwrap_or(1);
        let mut value = low;
        while value <= high {
            bits.insert(value - field.min);
            value += step;
        }
    }
    Ok(bits)
}

/// The `n` of `/n`: from 1 to the width of the field.
fn parse_step(field: &Field, text: &str) -> Result<u16, String> {
    let widest = field.max - field.min;
    text.parse::<u16>()
        .ok()
        .filter(|step| text.bytes().all(|b| b.is_ascii_digit()) && (1..=widest).contains(step))
        .ok_or_else(|| {
            format!(
                "{} increment {} must be a whole number from 1 to {widest}",
                field.name,
                shown(text)
            )
        })
}

/// One value of a field: a number in range, or one of its names.
fn parse_value(field: &Field, text: &str) -> Result<u16, String> {
    if text == "?" {
        return Err("? is only allowed in day-of-month or day-of-week".to_string());
    }
    if text.is_empty() {
        return Err(format!("{} is missing a value", field.name));
    }
    let range = format!("{}-{}", field.min, field.max);
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u16>()
            .ok()
            .filter(|value| (field.min..=field.max).contains(value))
            .ok_or_else(|| {
                format!(
                    "{} value {} is out of range {range}",
                    field.name,
                    shown(text)
                )
            });
    }
    if let Some((value, _)) = (field.min..)
        .zip(field.names)
        .find(|(_, name)| **name == text)
    {
        return Ok(value);
    }
    Err(match (field.names.first(), field.names.last()) {
        (Some(first), Some(last)) => format!(
            "{} value {} is neither a number {range} nor a name {first}-{last}",
            field.name,
            shown(text)
        ),
        _ => format!(
            "{} value {} is not a number {range}",
            field.name,
            shown(text)
        ),
    })
}

/// Day-of-month: `?` (`None`), `L`, `LW`, `15W`, or a list.
fn parse_day_of_month(text: &str) -> Result<Option<MonthDays>, String> {
    Ok(Some(match text {
        "?" => return Ok(None),
        "L" => MonthDays::Last,
        "LW" => MonthDays::LastWeekday,
        _ if text.contains(['L', 'W']) => {
            let day = text
                .strip_suffix('W')
                .filter(|day| !day.is_empty() && day.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    "day-of-month takes L, LW or one day with W (such as 15W) on its own, \
                     not in a list or range"
                        .to_string()
                })?;
            let day = parse_value(&DAY_OF_MONTH, day)?;
            MonthDays::NearestWeekday(i8::try_from(day).map_err(|_| "day out of range")?)
        }
        _ => MonthDays::Set(parse_list(&DAY_OF_MONTH, text)?),
    }))
}

/// Day-of-week: `?` (`None`), `L` (Saturday, the week's last day), `6L`,
/// `3#2`, or a list.
fn parse_day_of_week(text: &str) -> Result<Option<WeekDays>, String> {
    let weekday = |text: &str| -> Result<i8, String> {
        let value = parse_value(&DAY_OF_WEEK, text)?;
        i8::try_from(value).map_err(|_| "weekday out of range".to_string())
    };
    Ok(Some(match text {
        "?" => return Ok(None),
        "L" => WeekDays::Set({
            let mut saturday = Bits::default();
            saturday.insert(6);
            saturday
        }),
        _ if text.contains('#') => {
            let shape = || {
                "day-of-week # takes one weekday and a week from 1 to 5 (such as 3#2, the \
                 month's second Tuesday), on its own"
                    .to_string()
            };
            let (day, nth) = text.split_once('#').ok_or_else(shape)?;
            let nth = match nth {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                "5" => 5,
                _ => return Err(shape()),
            };
            if day.is_empty() || day.contains([',', '-', '*', '/', 'L']) {
                return Err(shape());
            }
            WeekDays::Nth(weekday(day)?, nth)
        }
        _ if text.contains('L') => {
            let day = text
                .strip_suffix('L')
                .filter(|day| !day.is_empty() && !day.contains([',', '-', '*', '/', 'L']))
                .ok_or_else(|| {
                    "day-of-week takes L, or one weekday with L (such as 6L, the month's last \
                     Friday), on its own"
                        .to_string()
                })?;
            WeekDays::Last(weekday(day)?)
        }
        _ => WeekDays::Set(parse_list(&DAY_OF_WEEK, text)?),
    }))
}

/// The unit of a rate expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateUnit {
    /// `minute` / `minutes`.
    Minutes,
    /// `hour` / `hours`.
    Hours,
    /// `day` / `days`: 24 hours each, whatever the clocks do.
    Days,
}

/// A Scheduler rate expression: `rate(value unit)`, a positive whole number
/// and minute(s), hour(s) or day(s), singular only with 1 (AWS refuses
/// `rate(1 minutes)` and `rate(5 minute)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    value: u32,
    unit: RateUnit,
}

impl Rate {
    /// Reads `rate(5 minutes)`, or `5 minutes` alone.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let shape = || {
            ScheduleError::Rate(
                "must look like rate(5 minutes): a positive whole number and minute(s), hour(s) \
                 or day(s)"
                    .into(),
            )
        };
        if text.chars().count() > MAX_FIELD_CHARS {
            return Err(shape());
        }
        let body = call_body(text, "rate").ok_or_else(shape)?;
        let mut words = body.split_ascii_whitespace();
        let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
            return Err(shape());
        };
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(shape());
        }
        let value = value
            .parse::<u32>()
            .ok()
            .filter(|value| *value > 0)
            .ok_or_else(|| {
                ScheduleError::Rate(format!(
                    "the value must be a whole number from 1 to {}",
                    u32::MAX
                ))
            })?;
        let unit_lower = unit.to_ascii_lowercase();
        let (unit, singular) = match unit_lower.as_str() {
            "minute" => (RateUnit::Minutes, true),
            "minutes" => (RateUnit::Minutes, false),
            "hour" => (RateUnit::Hours, true),
            "hours" => (RateUnit::Hours, false),
            "day" => (RateUnit::Days, true),
            "days" => (RateUnit::Days, false),
            _ => {
                return Err(ScheduleError::Rate(format!(
                    "unit {} must be minute(s), hour(s) or day(s)",
                    shown(unit)
                )));
            }
        };
        let rate = Self { value, unit };
        if singular != (value == 1) {
            return Err(ScheduleError::Rate(format!(
                "write {} (singular with 1 only, plural otherwise)",
                rate.expression()
            )));
        }
        Ok(rate)
    }

    /// How many units.
    pub fn value(&self) -> u32 {
        self.value
    }

    /// Which unit.
    pub fn unit(&self) -> RateUnit {
        self.unit
    }

    /// The time between runs.
    pub fn interval(&self) -> SignedDuration {
        let unit_seconds = match self.unit {
            RateUnit::Minutes => 60,
            RateUnit::Hours => 3_600,
            RateUnit::Days => 86_400,
        };
        SignedDuration::from_secs(i64::from(self.value) * unit_seconds)
    }

    /// The expression as Scheduler takes it: `rate(5 minutes)`.
    pub fn expression(&self) -> String {
        let unit = match self.unit {
            RateUnit::Minutes => "minute",
            RateUnit::Hours => "hour",
            RateUnit::Days => "day",
        };
        let plural = if self.value == 1 { "" } else { "s" };
        format!("rate({} {unit}{plural})", self.value)
    }

    /// The first run strictly after `after` of a rate whose first run is
    /// at `anchor` (Scheduler's start date, else the schedule's creation).
    pub fn next_after(&self, anchor: Timestamp, after: Timestamp) -> Option<Timestamp> {
        if anchor > after {
            return Some(anchor);
        }
        let step = self.interval().as_nanos();
        let elapsed = after.as_nanosecond() - anchor.as_nanosecond();
        let runs = elapsed.checked_div(step)?.checked_add(1)?;
        let next = anchor
            .as_nanosecond()
            .checked_add(runs.checked_mul(step)?)?;
        Timestamp::from_nanosecond(next).ok()
    }
}

/// The friendly recurring shape, kept small:
/// `{"weekdays": ["mon", "fri"], "time": "09:55"}` or
/// `{"days": "daily" | "weekdays" | "weekends", "time": "09:55"}`, a
/// local 24-hour time on the chosen days. It becomes a cron expression
/// (`cron(55 9 ? * MON,FRI *)`), which is what Scheduler is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Every {
    hour: i8,
    minute: i8,
    cron: CronExpr,
}

/// Weekday names as cron writes them and in full, Monday first (the order
/// `every` lists them in).
const WEEK: [(&str, &str); 7] = [
    ("MON", "monday"),
    ("TUE", "tuesday"),
    ("WED", "wednesday"),
    ("THU", "thursday"),
    ("FRI", "friday"),
    ("SAT", "saturday"),
    ("SUN", "sunday"),
];

impl Every {
    /// Reads the object; unknown keys are refused (a typo would otherwise
    /// change the days silently).
    pub fn parse(value: &Value) -> Result<Self, ScheduleError> {
        let fail = |message: String| ScheduleError::Every(message);
        let Value::Object(map) = value else {
            return Err(fail(
                "must be an object such as {\"weekdays\": [\"mon\", \"fri\"], \"time\": \"09:55\"} \
                 or {\"days\": \"weekdays\", \"time\": \"09:55\"}"
                    .into(),
            ));
        };
        if let Some(key) = map
            .keys()
            .find(|key| !matches!(key.as_str(), "weekdays" | "days" | "time"))
        {
            return Err(fail(format!(
                "unknown field {}; use weekdays or days, and time",
                shown(key)
            )));
        }
        // Which weekdays, as offsets from Monday (WEEK's order).
        let days: [bool; 7] = match (map.get("weekdays"), map.get("days")) {
            (Some(_), Some(_)) => return Err(fail("give weekdays or days, not both".into())),
            (None, None) => {
                return Err(fail(
                    "say which days: weekdays (a list such as [\"mon\", \"fri\"]) or days \
                     (\"daily\", \"weekdays\" or \"weekends\")"
                        .into(),
                ));
            }
            (Some(list), None) => parse_weekdays(list).map_err(fail)?,
            (None, Some(days)) => match days.as_str().map(|d| d.trim().to_ascii_lowercase()) {
                Some(d) if d == "daily" => [true; 7],
                Some(d) if d == "weekdays" => [true, true, true, true, true, false, false],
                Some(d) if d == "weekends" => [false, false, false, false, false, true, true],
                _ => {
                    return Err(fail(
                        "days must be \"daily\", \"weekdays\" or \"weekends\"".into(),
                    ));
                }
            },
        };
        let time = map
            .get("time")
            .ok_or_else(|| fail("time is missing: give a local time such as \"09:55\"".into()))?;
        let (hour, minute) = time.as_str().and_then(parse_clock).ok_or_else(|| {
            fail("time must be a 24-hour local time such as \"09:55\" or \"17:30\"".into())
        })?;
        let day_fields = match days {
            [true, true, true, true, true, true, true] => "* * ?".to_string(),
            [true, true, true, true, true, false, false] => "? * MON-FRI".to_string(),
            _ => {
                let names: Vec<&str> = WEEK
                    .iter()
                    .zip(days)
                    .filter(|(_, on)| *on)
                    .map(|((name, _), _)| *name)
                    .collect();
                format!("? * {}", names.join(","))
            }
        };
        let cron = CronExpr::parse(&format!("cron({minute} {hour} {day_fields} *)"))
            .map_err(|err| fail(format!("could not be turned into cron ({err})")))?;
        Ok(Self { hour, minute, cron })
    }

    /// The local hour (0-23).
    pub fn hour(&self) -> i8 {
        self.hour
    }

    /// The local minute (0-59).
    pub fn minute(&self) -> i8 {
        self.minute
    }

    /// The cron expression it stands for.
    pub fn cron(&self) -> &CronExpr {
        &self.cron
    }
}

/// `every.weekdays`: a non-empty list of day names (`mon` or `monday`, any
/// case); repeats are harmless.
fn parse_weekdays(list: &Value) -> Result<[bool; 7], String> {
    let shape = "weekdays must be a list of day names such as [\"mon\", \"fri\"]";
    let Value::Array(items) = list else {
        return Err(shape.into());
    };
    if items.is_empty() {
        return Err("weekdays is empty; name at least one day".into());
    }
    let mut days = [false; 7];
    for item in items {
        let name = item.as_str().ok_or(shape)?.trim().to_ascii_lowercase();
        let index = WEEK
            .iter()
            .position(|(short, long)| name.eq_ignore_ascii_case(short) || name == *long)
            .ok_or_else(|| {
                format!(
                    "weekdays has {}, which is not a day (mon, tue, wed, thu, fri, sat, sun)",
                    shown(&name)
                )
            })?;
        if let Some(day) = days.get_mut(index) {
            *day = true;
        }
    }
    Ok(days)
}

/// `HH:MM` or `H:MM`, 24-hour.
fn parse_clock(text: &str) -> Option<(i8, i8)> {
    let (hour, minute) = text.trim().split_once(':')?;
    let number = |part: &str, len: std::ops::RangeInclusive<usize>, max: i8| {
        (len.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i8>().ok())
            .flatten()
            .filter(|value| (0..=max).contains(value))
    };
    Some((number(hour, 1..=2, 23)?, number(minute, 2..=2, 59)?))
}

/// A local date-time as callers write it: `2026-12-24T09:00` or
/// `2026-12-24T09:00:00`. Nothing else: an offset or `Z` would contradict
/// `timezone`, so it is refused rather than ignored.
fn parse_local(text: &str) -> Result<DateTime, String> {
    let text = text.trim();
    let shape = || {
        format!(
            "{} must be a local date-time such as 2026-12-24T09:00 or 2026-12-24T09:00:00 \
             (no Z or offset: timezone says where)",
            shown(text)
        )
    };
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i16> {
        let part = bytes.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0_i16, |acc, b| {
            acc.checked_mul(10)?.checked_add(i16::from(b - b'0'))
        })
    };
    let at = |index: usize, expected: u8| bytes.get(index) == Some(&expected);
    let well_formed = (bytes.len() == 16 || (bytes.len() == 19 && at(16, b':')))
        && at(4, b'-')
        && at(7, b'-')
        && at(10, b'T')
        && at(13, b':');
    if !well_formed {
        return Err(shape());
    }
    let small = |range| digits(range).and_then(|value| i8::try_from(value).ok());
    let second = if bytes.len() == 19 {
        small(17..19)
    } else {
        Some(0)
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        small(5..7),
        small(8..10),
        small(11..13),
        small(14..16),
        second,
    ) else {
        return Err(shape());
    };
    DateTime::new(year, month, day, hour, minute, second, 0)
        .map_err(|_| format!("{} is not a real date and time", shown(text)))
}

/// `start` or `end`: the local date-time given and the instant it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    local: DateTime,
    instant: Timestamp,
}

impl Bound {
    /// A local time the clocks skip is read as the time after the jump
    /// (02:30 on a 02:00 to 03:00 night is 03:30); a repeated one as its
    /// first occurrence. Either way a bound, not a run.
    fn parse(text: &str, timezone: &Timezone) -> Result<Self, String> {
        let local = parse_local(text)?;
        let instant = timezone
            .zone()
            .to_ambiguous_timestamp(local)
            .compatible()
            .map_err(|_| format!("{local} is out of range in {}", timezone.name()))?;
        Ok(Self { local, instant })
    }
}

/// What a reminder's schedule is, after parsing: one of the four shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// `at`: once, at this local date-time (in the future when parsed).
    At(DateTime),
    /// `cron`: a Scheduler cron expression.
    Cron(CronExpr),
    /// `rate`: every so many minutes, hours or days.
    Rate(Rate),
    /// `every`: the friendly shape, a cron expression underneath.
    Every(Every),
}

impl When {
    /// The `ScheduleExpression` for Scheduler: `at(...)`, `cron(...)` or
    /// `rate(...)` (`every` gives its cron).
    pub fn schedule_expression(&self) -> String {
        match self {
            Self::At(local) => format!(
                "at({:04}-{:02}-{:02}T{:02}:{:02}:{:02})",
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.minute(),
                local.second()
            ),
            Self::Cron(cron) => cron.expression(),
            Self::Every(every) => every.cron().expression(),
            Self::Rate(rate) => rate.expression(),
        }
    }

    /// Whether it runs once (`at`) rather than recurring.
    pub fn is_one_time(&self) -> bool {
        matches!(self, Self::At(_))
    }

    /// The field the caller used, for messages.
    fn field(&self) -> &'static str {
        match self {
            Self::At(_) => "at",
            Self::Cron(_) => "cron",
            Self::Rate(_) => "rate",
            Self::Every(_) => "every",
        }
    }
}

/// A reminder's schedule, checked as a whole: what runs when, in which time
/// zone, between which bounds. Built only by [`ScheduleSpec::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    when: When,
    timezone: Timezone,
    start: Option<Bound>,
    end: Option<Bound>,
}

impl ScheduleSpec {
    /// The when fields of a JSON request (`at`, `cron`, `rate`, `every`,
    /// `timezone`, `start`, `end`; others are not looked at), parsed as of
    /// `now`. A field that should be text and is not is its own error.
    pub fn from_json(when: &Map<String, Value>, now: Timestamp) -> Result<Self, ScheduleError> {
        let mut input = ScheduleInput {
            every: when.get("every").filter(|every| !every.is_null()),
            ..ScheduleInput::default()
        };
        for (name, slot) in [
            ("at", &mut input.at),
            ("cron", &mut input.cron),
            ("rate", &mut input.rate),
            ("timezone", &mut input.timezone),
            ("start", &mut input.start),
            ("end", &mut input.end),
        ] {
            match when.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => *slot = Some(text.as_str()),
                Some(_) => return Err(ScheduleError::of_field(name, "must be a string")),
            }
        }
        Self::parse(&input, now)
    }

    /// Checks the request's schedule fields against `now`: exactly one of
    /// `at`/`cron`/`rate`/`every`; `at` in the future and a local time that
    /// exists; `start`/`end` only on a recurring schedule, `end` after
    /// `start` and after now; and a cron or `every` that runs at least once
    /// more (before `end`), since Scheduler would accept one that never does.
    pub fn parse(input: &ScheduleInput<'_>, now: Timestamp) -> Result<Self, ScheduleError> {
        let timezone = match input.timezone {
            None => Timezone::utc(),
            Some(name) => Timezone::parse(name)?,
        };
        let every = input.every.filter(|every| !every.is_null());
        let given: Vec<&'static str> = [
            ("at", input.at.is_some()),
            ("cron", input.cron.is_some()),
            ("rate", input.rate.is_some()),
            ("every", every.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let when = match (given.as_slice(), input.at, input.cron, input.rate, every) {
            ([first, second, ..], ..) => return Err(ScheduleError::TwoWhens(first, second)),
            (_, Some(at), ..) => When::At(parse_at(at, &timezone, now)?),
            (_, _, Some(cron), ..) => When::Cron(CronExpr::parse(cron)?),
            (_, _, _, Some(rate), _) => When::Rate(Rate::parse(rate)?),
            (_, _, _, _, Some(every)) => When::Every(Every::parse(every)?),
            _ => return Err(ScheduleError::NoWhen),
        };
        let start = input
            .start
            .map(|text| Bound::parse(text, &timezone).map_err(ScheduleError::Start))
            .transpose()?;
        let end = input
            .end
            .map(|text| Bound::parse(text, &timezone).map_err(ScheduleError::End))
            .transpose()?;
        if when.is_one_time() {
            // Scheduler ignores both on a one-time schedule: say so, rather
            // than let the caller believe they apply.
            let once = "only for recurring schedules (cron, rate or every); at runs once";
            if start.is_some() {
                return Err(ScheduleError::Start(once.into()));
            }
            if end.is_some() {
                return Err(ScheduleError::End(once.into()));
            }
        }
        if let Some(end) = end {
            if start.is_some_and(|start| end.instant <= start.instant) {
                return Err(ScheduleError::End("must be after start".into()));
            }
            if end.instant <= now {
                return Err(ScheduleError::End(format!(
                    "{} in {} is in the past",
                    end.local,
                    timezone.name()
                )));
            }
        }
        let spec = Self {
            when,
            timezone,
            start,
            end,
        };
        let recurring_by_calendar = matches!(spec.when, When::Cron(_) | When::Every(_));
        if recurring_by_calendar && spec.next_run(now).is_none() {
            let field = spec.when.field();
            return Err(if spec.end.is_some() {
                ScheduleError::End(format!("no run of the {field} schedule falls before end"))
            } else if field == "cron" {
                ScheduleError::Cron("never runs after now (no future date matches)".into())
            } else {
                ScheduleError::Every("never runs after now".into())
            });
        }
        Ok(spec)
    }

    /// What runs when.
    pub fn when(&self) -> &When {
        &self.when
    }

    /// The time zone the schedule is read in.
    pub fn timezone(&self) -> &Timezone {
        &self.timezone
    }

    /// `start` as given (local).
    pub fn start(&self) -> Option<DateTime> {
        self.start.map(|bound| bound.local)
    }

    /// `start` as an instant: Scheduler's `StartDate`.
    pub fn start_instant(&self) -> Option<Timestamp> {
        self.start.map(|bound| bound.instant)
    }

    /// `end` as given (local).
    pub fn end(&self) -> Option<DateTime> {
        self.end.map(|bound| bound.local)
    }

    /// `end` as an instant: Scheduler's `EndDate`.
    pub fn end_instant(&self) -> Option<Timestamp> {
        self.end.map(|bound| bound.instant)
    }

    /// Scheduler's `ScheduleExpression`.
    pub fn schedule_expression(&self) -> String {
        self.when.schedule_expression()
    }

    /// Whether it runs once (`at`).
    pub fn is_one_time(&self) -> bool {
        self.when.is_one_time()
    }

    /// The next run strictly after `now`, on or after `start` and before
    /// `end`; `None` when there is none.
    ///
    /// A `rate` counts from `start`; without one Scheduler counts from the
    /// schedule's creation, which only it knows: then this is `None`, and
    /// [`ScheduleSpec::next_run_since`] takes the creation time.
    pub fn next_run(&self, now: Timestamp) -> Option<Timestamp> {
        self.next(now, None)
    }

    /// As [`ScheduleSpec::next_run`], for a schedule created at `created`
    /// (the first run of a `rate` without `start`).
    pub fn next_run_since(&self, now: Timestamp, created: Timestamp) -> Option<Timestamp> {
        self.next(now, Some(created))
    }

    fn next(&self, now: Timestamp, created: Option<Timestamp>) -> Option<Timestamp> {
        let zone = self.timezone.zone();
        // Runs fall on or after start: search from just before it.
        let after = match self.start_instant() {
            Some(start) if start > now => start.checked_sub(SignedDuration::from_nanos(1)).ok()?,
            _ => now,
        };
        let next = match &self.when {
            When::At(local) => first_instant(zone, *local).filter(|run| *run > now),
            When::Cron(cron) => cron.next_after(zone, after),
            When::Every(every) => every.cron().next_after(zone, after),
            When::Rate(rate) => rate.next_after(self.start_instant().or(created)?, now),
        }?;
        match self.end_instant() {
            Some(end) if next >= end => None,
            _ => Some(next),
        }
    }
}

/// `at`: a local date-time that exists in the zone and is still ahead.
fn parse_at(text: &str, timezone: &Timezone, now: Timestamp) -> Result<DateTime, ScheduleError> {
    let local = parse_local(text).map_err(ScheduleError::At)?;
    let name = timezone.name();
    let instant = first_instant(timezone.zone(), local).ok_or_else(|| {
        ScheduleError::At(format!(
            "{local} does not exist in {name} (the clocks jump over it); pick another time"
        ))
    })?;
    if instant <= now {
        return Err(ScheduleError::At(format!(
            "{local} in {name} is in the past"
        )));
    }
    Ok(local)
}

/// A caller's text for a message: quoted, escaped and cut short.
fn shown(text: &str) -> String {
    const MAX: usize = 24;
    let mut short: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        short.push('…');
    }
    format!("{short:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fields_are_read_as_text_and_named_when_they_are_not() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let when = |value: Value| value.as_object().cloned().unwrap();
        let spec = ScheduleSpec::from_json(
            &when(serde_json::json!({"cron": "cron(0 9 ? * MON *)", "every": null, "timezone": "Europe/London"})),
            now,
        )
        .unwrap();
        assert_eq!(spec.schedule_expression(), "cron(0 9 ? * MON *)");
        let err = ScheduleSpec::from_json(&when(serde_json::json!({"cron": 9})), now).unwrap_err();
        assert_eq!(
            (err.field(), err.to_string().as_str()),
            ("cron", "cron: must be a string")
        );
        let err = ScheduleSpec::from_json(
            &when(serde_json::json!({"at": "2030-01-01T09:00", "end": true})),
            now,
        )
        .unwrap_err();
        assert_eq!(err.field(), "end");
    }
    use proptest::prelude::*;
    use serde_json::json;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a test instant")
    }

    fn spec(input: ScheduleInput<'_>, now: &str) -> Result<ScheduleSpec, ScheduleError> {
        ScheduleSpec::parse(&input, ts(now))
    }

    fn every_in(every: &Value, zone: &str) -> ScheduleSpec {
        let input = ScheduleInput {
            every: Some(every),
            timezone: Some(zone),
            ..Default::default()
        };
        spec(input, "2026-01-01T00:00:00Z").expect("a valid every")
    }

    fn cron_in(cron: &str, zone: &str) -> ScheduleSpec {
        let input = ScheduleInput {
            cron: Some(cron),
            timezone: Some(zone),
            ..Default::default()
        };
        spec(input, "2026-01-01T00:00:00Z").expect("a valid cron")
    }

    fn cron_error(cron: &str) -> String {
        match CronExpr::parse(cron) {
            Ok(parsed) => panic!("{cron} parsed as {parsed:?}"),
            Err(err) => {
                assert!(matches!(err, ScheduleError::Cron(_)), "{cron}: {err:?}");
                err.to_string()
            }
        }
    }

    /// The next `count` runs after `from`, as UTC strings.
    fn runs(spec: &ScheduleSpec, from: &str, count: usize) -> Vec<String> {
        let mut now = ts(from);
        let mut out = Vec::new();
        for _ in 0..count {
            let Some(next) = spec.next_run(now) else {
                break;
            };
            out.push(next.to_string());
            now = next;
        }
        out
    }

    #[test]
    fn every_becomes_cron() {
        let cases = [
            (
                json!({"weekdays": ["mon", "fri"], "time": "09:55"}),
                "cron(55 9 ? * MON,FRI *)",
            ),
            (
                json!({"weekdays": ["Friday", "MON", "monday"], "time": "9:55"}),
                "cron(55 9 ? * MON,FRI *)",
            ),
            (
                json!({"weekdays": ["sun", "sat"], "time": "00:00"}),
                "cron(0 0 ? * SAT,SUN *)",
            ),
            (
                json!({"weekdays": ["mon", "tue", "wed", "thu", "fri"], "time": "07:05"}),
                "cron(5 7 ? * MON-FRI *)",
            ),
            (
                json!({"days": "weekdays", "time": "17:30"}),
                "cron(30 17 ? * MON-FRI *)",
            ),
            (
                json!({"days": "weekends", "time": "10:00"}),
                "cron(0 10 ? * SAT,SUN *)",
            ),
            (
                json!({"days": "Daily", "time": "23:59"}),
                "cron(59 23 * * ? *)",
            ),
            (
                json!({"weekdays": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], "time": "08:00"}),
                "cron(0 8 * * ? *)",
            ),
        ];
        for (every, expected) in cases {
            let parsed = Every::parse(&every).unwrap_or_else(|err| panic!("{every}: {err}"));
            assert_eq!(parsed.cron().expression(), expected, "{every}");
            let whole = every_in(&every, "Europe/London");
            assert_eq!(whole.schedule_expression(), expected);
            assert!(!whole.is_one_time());
        }
    }

    #[test]
    fn every_refuses_what_it_cannot_read() {
        let bad = [
            json!("weekdays at 9"),
            json!({"time": "09:00"}),
            json!({"weekdays": [], "time": "09:00"}),
            json!({"weekdays": "mon", "time": "09:00"}),
            json!({"weekdays": ["mon", "funday"], "time": "09:00"}),
            json!({"weekdays": [1], "time": "09:00"}),
            json!({"weekdays": ["mon"], "days": "daily", "time": "09:00"}),
            json!({"days": "fortnightly", "time": "09:00"}),
            json!({"days": "daily"}),
            json!({"days": "daily", "time": "24:00"}),
            json!({"days": "daily", "time": "09:60"}),
            json!({"days": "daily", "time": "9:5"}),
            json!({"days": "daily", "time": "09:55:00"}),
            json!({"days": "daily", "time": 955}),
            json!({"weekday": ["mon"], "time": "09:00"}),
        ];
        for every in bad {
            let err = Every::parse(&every).expect_err(&every.to_string());
            assert!(err.to_string().starts_with("every: "), "{err}");
            assert_eq!(err.field(), "every");
        }
    }

    #[test]
    fn at_in_the_future_is_one_time() {
        let input = ScheduleInput {
            at: Some("2026-12-24T09:00"),
            timezone: Some("Europe/Paris"),
            ..Default::default()
        };
        let parsed = spec(input, "2026-06-01T00:00:00Z").unwrap();
        assert!(parsed.is_one_time());
        assert_eq!(parsed.schedule_expression(), "at(2026-12-24T09:00:00)");
        assert_eq!(parsed.timezone().name(), "Europe/Paris");
        let now = ts("2026-06-01T00:00:00Z");
        assert_eq!(parsed.next_run(now), Some(ts("2026-12-24T08:00:00Z")));
        // Once it has run, there is no next run.
        assert_eq!(parsed.next_run(ts("2026-12-24T08:00:00Z")), None);

        let with_seconds = ScheduleInput {
            at: Some("2026-12-24T09:00:30"),
            ..Default::default()
        };
        let parsed = spec(with_seconds, "2026-06-01T00:00:00Z").unwrap();
        assert_eq!(parsed.schedule_expression(), "at(2026-12-24T09:00:30)");
        assert_eq!(parsed.timezone().name(), "UTC");
    }

    #[test]
    fn at_in_the_past_is_refused() {
        for (at, now) in [
            ("2026-01-01T09:00", "2026-06-01T00:00:00Z"),
            // The same wall time, but already passed in the zone's offset.
            ("2026-06-01T01:00", "2026-06-01T00:30:00Z"),
            // Exactly now is not the future.
            ("2026-06-01T01:30", "2026-06-01T00:30:00Z"),
        ] {
            let input = ScheduleInput {
                at: Some(at),
                timezone: Some("Europe/London"),
                ..Default::default()
            };
            let err = spec(input, now).unwrap_err();
            assert!(matches!(err, ScheduleError::At(_)), "{at}: {err:?}");
            assert!(err.to_string().contains("in the past"), "{err}");
        }
    }

    #[test]
    fn at_must_be_a_plain_local_date_time() {
        for at in [
            "",
            "tomorrow",
            "2026-12-24",
            "2026-12-24 09:00",
            "2026-12-24T09",
            "2026-12-24T09:00Z",
            "2026-12-24T09:00:00+01:00",
            "2026-12-24T09:00:00.5",
            "2026-02-30T09:00",
            "2026-12-24T25:00",
            "+2026-12-24T09:00",
            "２０２６-12-24T09:00",
        ] {
            let input = ScheduleInput {
                at: Some(at),
                ..Default::default()
            };
            let err = spec(input, "2026-01-01T00:00:00Z").unwrap_err();
            assert!(matches!(err, ScheduleError::At(_)), "{at}: {err:?}");
        }
    }

    #[test]
    fn at_in_a_skipped_hour_is_refused_and_a_repeated_one_is_the_first() {
        let gap = ScheduleInput {
            at: Some("2026-03-29T01:30"),
            timezone: Some("Europe/London"),
            ..Default::default()
        };
        let err = spec(gap, "2026-01-01T00:00:00Z").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");

        let fold = ScheduleInput {
            at: Some("2026-10-25T01:30"),
            timezone: Some("Europe/London"),
            ..Default::default()
        };
        let parsed = spec(fold, "2026-01-01T00:00:00Z").unwrap();
        assert_eq!(
            parsed.next_run(ts("2026-01-01T00:00:00Z")),
            Some(ts("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn exactly_one_of_at_cron_rate_every() {
        let now = "2026-01-01T00:00:00Z";
        assert_eq!(
            spec(ScheduleInput::default(), now).unwrap_err(),
            ScheduleError::NoWhen
        );
        let null = Value::Null;
        let only_null = ScheduleInput {
            every: Some(&null),
            ..Default::default()
        };
        assert_eq!(spec(only_null, now).unwrap_err(), ScheduleError::NoWhen);
        let two = ScheduleInput {
            at: Some("2026-12-24T09:00"),
            cron: Some("cron(0 9 * * ? *)"),
            ..Default::default()
        };
        assert_eq!(
            spec(two, now).unwrap_err(),
            ScheduleError::TwoWhens("at", "cron")
        );
        let every = json!({"days": "daily", "time": "09:00"});
        let three = ScheduleInput {
            rate: Some("rate(5 minutes)"),
            every: Some(&every),
            cron: Some("garbage"),
            ..Default::default()
        };
        assert_eq!(
            spec(three, now).unwrap_err().to_string(),
            "give only one of at, cron, rate or every (got cron and rate)"
        );
    }

    #[test]
    fn good_crons_parse_and_keep_their_text() {
        for (text, expected) in [
            ("cron(0 10 * * ? *)", "cron(0 10 * * ? *)"),
            ("cron(15 12 * * ? *)", "cron(15 12 * * ? *)"),
            ("cron(0 18 ? * MON-FRI *)", "cron(0 18 ? * MON-FRI *)"),
            ("cron(0 8 1 * ? *)", "cron(0 8 1 * ? *)"),
            ("cron(0/15 * * * ? *)", "cron(0/15 * * * ? *)"),
            ("cron(0/10 * ? * MON-FRI *)", "cron(0/10 * ? * MON-FRI *)"),
            (
                "cron(0/5 8-17 ? * MON-FRI *)",
                "cron(0/5 8-17 ? * MON-FRI *)",
            ),
            ("cron(0 9 ? * 2#1 *)", "cron(0 9 ? * 2#1 *)"),
            ("cron(0 12 L * ? *)", "cron(0 12 L * ? *)"),
            ("cron(0 9 15W * ? *)", "cron(0 9 15W * ? *)"),
            ("cron(0 9 LW * ? *)", "cron(0 9 LW * ? *)"),
            ("cron(0 9 ? * 6L *)", "cron(0 9 ? * 6L *)"),
            ("cron(0 9 ? * L 2026-2030)", "cron(0 9 ? * L 2026-2030)"),
            (
                "cron(1-59/2 */3 1,15 JAN-MAR/2 ? *)",
                "cron(1-59/2 */3 1,15 JAN-MAR/2 ? *)",
            ),
            ("  Cron( 0   9 ? * mon,fri * ) ", "cron(0 9 ? * MON,FRI *)"),
            ("0 9 ? * SUN 2199", "cron(0 9 ? * SUN 2199)"),
        ] {
            let parsed = CronExpr::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
            assert_eq!(parsed.expression(), expected);
        }
    }

    #[test]
    fn bad_crons_are_refused_with_the_reason() {
        let cases = [
            ("", "has 0 fields"),
            ("cron()", "has 0 fields"),
            ("cron(0 9 * * ?)", "has 5 fields; it needs 6"),
            ("cron(0 0 9 * * ? *)", "has 7 fields"),
            ("cron(0 9 * * ? *", "must look like cron("),
            ("cron(0 9 * * ? *))", "must look like cron("),
            ("crom(0 9 * * ? *)", "must look like cron("),
            (
                "cron(* * * * * *)",
                "day-of-month and day-of-week cannot both be set; one must be ?",
            ),
            (
                "cron(0 9 1 * MON *)",
                "day-of-month and day-of-week cannot both be set; one must be ?",
            ),
            (
                "cron(0 9 ? * ? *)",
                "day-of-month and day-of-week cannot both be ?",
            ),
            (
                "cron(60 9 * * ? *)",
                "minutes value \"60\" is out of range 0-59",
            ),
            (
                "cron(0 24 * * ? *)",
                "hours value \"24\" is out of range 0-23",
            ),
            (
                "cron(0 9 0 * ? *)",
                "day-of-month value \"0\" is out of range 1-31",
            ),
            ("cron(0 9 32 * ? *)", "out of range 1-31"),
            (
                "cron(0 9 * 13 ? *)",
                "month value \"13\" is out of range 1-12",
            ),
            (
                "cron(0 9 ? * 0 *)",
                "day-of-week value \"0\" is out of range 1-7",
            ),
            ("cron(0 9 ? * 8 *)", "out of range 1-7"),
            (
                "cron(0 9 * * ? 1969)",
                "year value \"1969\" is out of range 1970-2199",
            ),
            ("cron(0 9 * * ? 2200)", "out of range 1970-2199"),
            (
                "cron(0 9 * JANUARY ? *)",
                "neither a number 1-12 nor a name JAN-DEC",
            ),
            (
                "cron(0 9 ? * MONDAY *)",
                "neither a number 1-7 nor a name SUN-SAT",
            ),
            ("cron(0 9 ? * MON-FUN *)", "\"FUN\""),
            ("cron(0 9 * FOO ? *)", "month value \"FOO\""),
            ("cron(0 9 ? * FRI-MON *)", "runs backwards"),
            ("cron(0 22-2 * * ? *)", "runs backwards"),
            (
                "cron(? 9 * * ? *)",
                "? is only allowed in day-of-month or day-of-week",
            ),
            ("cron(0 9 * ? ? *)", "? is only allowed"),
            (
                "cron(0/0 9 * * ? *)",
                "increment \"0\" must be a whole number from 1 to 59",
            ),
            ("cron(0/60 9 * * ? *)", "from 1 to 59"),
            ("cron(0/x 9 * * ? *)", "increment"),
            (
                "cron(0 9 ? * MON/2 *)",
                "day-of-week does not take / increments",
            ),
            ("cron(0 9 ? * 2#6 *)", "day-of-week # takes one weekday"),
            ("cron(0 9 ? * 3#1,6#3 *)", "day-of-week # takes one weekday"),
            ("cron(0 9 ? * #2 *)", "day-of-week # takes one weekday"),
            ("cron(0 9 ? * 1-3L *)", "day-of-week takes L"),
            (
                "cron(0 9 L,15 * ? *)",
                "day-of-month takes L, LW or one day with W",
            ),
            (
                "cron(0 9 1-5W * ? *)",
                "day-of-month takes L, LW or one day with W",
            ),
            ("cron(0 9 32W * ? *)", "out of range 1-31"),
            ("cron(0 9 W * ? *)", "day-of-month takes L"),
            (
                "cron(0 9 L * ? L)",
                "year value \"L\" is not a number 1970-2199",
            ),
            ("cron(0,,5 9 * * ? *)", "minutes has an empty item"),
            ("cron(0- 9 * * ? *)", "minutes is missing a value"),
            ("cron(0 9 * * ? *) ; rm -rf /", "must look like cron("),
            (
                "cron(zero nine * * ? *)",
                "minutes value \"ZERO\" is not a number 0-59",
            ),
            ("cron(0 9 * * ？ *)", "day-of-week value \"？\""),
            ("every day at nine", "has 4 fields"),
        ];
        for (cron, expected) in cases {
            let message = cron_error(cron);
            assert!(message.starts_with("cron: "), "{cron}: {message}");
            assert!(message.contains(expected), "{cron}: {message}");
        }
        let long = format!("cron({} 9 * * ? *)", "1,".repeat(200));
        assert!(cron_error(&long).contains("longer than 256"));
    }

    #[test]
    fn cron_day_rules_pick_the_right_days() {
        let utc = TimeZone::UTC;
        let first = |cron: &str, after: &str| {
            CronExpr::parse(cron)
                .unwrap()
                .next_after(&utc, ts(after))
                .map(|t| t.to_string())
        };
        // L: the last day of February in a leap year.
        assert_eq!(
            first("cron(0 12 L * ? *)", "2028-02-01T00:00:00Z").as_deref(),
            Some("2028-02-29T12:00:00Z")
        );
        // LW: 2026-05-31 is a Sunday, so Friday the 29th.
        assert_eq!(
            first("cron(0 9 LW * ? *)", "2026-05-01T00:00:00Z").as_deref(),
            Some("2026-05-29T09:00:00Z")
        );
        // 1W: 2026-08-01 is a Saturday; the nearest weekday in August is Monday the 3rd.
        assert_eq!(
            first("cron(0 9 1W * ? *)", "2026-07-31T12:00:00Z").as_deref(),
            Some("2026-08-03T09:00:00Z")
        );
        // 15W: 2026-08-15 is a Saturday, so Friday the 14th.
        assert_eq!(
            first("cron(0 9 15W * ? *)", "2026-08-01T00:00:00Z").as_deref(),
            Some("2026-08-14T09:00:00Z")
        );
        // 31W skips months without a 31st.
        assert_eq!(
            first("cron(0 9 31W * ? *)", "2026-04-01T00:00:00Z").as_deref(),
            Some("2026-05-29T09:00:00Z")
        );
        // 2#1: the first Monday of September 2026 is the 7th.
        assert_eq!(
            first("cron(0 9 ? * 2#1 *)", "2026-09-01T00:00:00Z").as_deref(),
            Some("2026-09-07T09:00:00Z")
        );
        // 6#5: the next month with a fifth Friday after June 2026 is July (the 31st).
        assert_eq!(
            first("cron(0 9 ? * FRI#5 *)", "2026-06-01T00:00:00Z").as_deref(),
            Some("2026-07-31T09:00:00Z")
        );
        // 6L: the last Friday of March 2026 is the 27th.
        assert_eq!(
            first("cron(0 9 ? * 6L *)", "2026-03-01T00:00:00Z").as_deref(),
            Some("2026-03-27T09:00:00Z")
        );
        // L alone in day-of-week is Saturday.
        assert_eq!(
            first("cron(0 9 ? * L *)", "2026-03-01T00:00:00Z").as_deref(),
            Some("2026-03-07T09:00:00Z")
        );
        // A year list ends the schedule; February 30th never comes.
        assert_eq!(first("cron(0 9 * * ? 2025)", "2026-01-01T00:00:00Z"), None);
        assert_eq!(first("cron(0 9 30 2 ? *)", "2026-01-01T00:00:00Z"), None);
        // Minutes and hours lists, strictly after `after`.
        assert_eq!(
            first("cron(0/20 8-9 * * ? *)", "2026-03-01T08:40:00Z").as_deref(),
            Some("2026-03-01T09:00:00Z")
        );
        assert_eq!(
            first("cron(0/20 8-9 * * ? *)", "2026-03-01T09:40:00Z").as_deref(),
            Some("2026-03-02T08:00:00Z")
        );
    }

    #[test]
    fn a_cron_that_never_runs_again_is_refused() {
        let input = ScheduleInput {
            cron: Some("cron(0 9 30 2 ? *)"),
            ..Default::default()
        };
        let err = spec(input, "2026-01-01T00:00:00Z").unwrap_err();
        assert!(err.to_string().starts_with("cron: never runs"), "{err}");
        let past = ScheduleInput {
            cron: Some("cron(0 9 * * ? 2025)"),
            ..Default::default()
        };
        assert!(matches!(
            spec(past, "2026-01-01T00:00:00Z"),
            Err(ScheduleError::Cron(_))
        ));
    }

    #[test]
    fn rates_parse_as_aws_writes_them() {
        for (text, expected, seconds) in [
            ("rate(1 minute)", "rate(1 minute)", 60),
            ("rate(5 minutes)", "rate(5 minutes)", 300),
            ("rate(1 hour)", "rate(1 hour)", 3_600),
            ("rate(12 hours)", "rate(12 hours)", 43_200),
            ("rate(1 day)", "rate(1 day)", 86_400),
            ("Rate( 7 Days )", "rate(7 days)", 604_800),
            ("15 minutes", "rate(15 minutes)", 900),
        ] {
            let rate = Rate::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
            assert_eq!(rate.expression(), expected);
            assert_eq!(rate.interval(), SignedDuration::from_secs(seconds));
        }
    }

    #[test]
    fn bad_rates_are_refused() {
        for (text, expected) in [
            ("rate(0 minutes)", "from 1 to"),
            ("rate(1 minutes)", "write rate(1 minute)"),
            ("rate(5 minute)", "write rate(5 minutes)"),
            ("rate(1 hours)", "write rate(1 hour)"),
            ("rate(2 day)", "write rate(2 days)"),
            ("rate(x)", "must look like rate(5 minutes)"),
            ("rate()", "must look like"),
            ("rate(5)", "must look like"),
            ("rate(-5 minutes)", "must look like"),
            ("rate(5.5 minutes)", "must look like"),
            (
                "rate(5 seconds)",
                "unit \"seconds\" must be minute(s), hour(s) or day(s)",
            ),
            ("rate(5 weeks)", "must be minute(s)"),
            ("rate(5 minutes", "must look like"),
            ("rate(99999999999 minutes)", "from 1 to"),
            ("rate(5 minutes) rate(5 minutes)", "must look like"),
            ("", "must look like"),
        ] {
            let err = Rate::parse(text).expect_err(text);
            assert!(matches!(err, ScheduleError::Rate(_)), "{text}");
            let message = err.to_string();
            assert!(message.starts_with("rate: "), "{message}");
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn rate_counts_from_start_or_creation() {
        let input = ScheduleInput {
            rate: Some("rate(90 minutes)"),
            timezone: Some("Europe/London"),
            start: Some("2026-03-29T00:00"),
            ..Default::default()
        };
        let parsed = spec(input, "2026-03-01T00:00:00Z").unwrap();
        assert_eq!(parsed.start_instant(), Some(ts("2026-03-29T00:00:00Z")));
        // Before start: the first run is start itself; then every 90
        // minutes of elapsed time, straight through the clock change.
        assert_eq!(
            runs(&parsed, "2026-03-01T00:00:00Z", 3),
            [
                "2026-03-29T00:00:00Z",
                "2026-03-29T01:30:00Z",
                "2026-03-29T03:00:00Z"
            ]
        );
        assert_eq!(
            parsed.next_run(ts("2026-03-29T01:29:59Z")),
            Some(ts("2026-03-29T01:30:00Z"))
        );

        let no_start = ScheduleInput {
            rate: Some("rate(1 day)"),
            ..Default::default()
        };
        let parsed = spec(no_start, "2026-03-01T00:00:00Z").unwrap();
        let now = ts("2026-03-03T12:00:00Z");
        assert_eq!(parsed.next_run(now), None);
        assert_eq!(
            parsed.next_run_since(now, ts("2026-03-01T10:00:00Z")),
            Some(ts("2026-03-04T10:00:00Z"))
        );
    }

    #[test]
    fn start_and_end_bound_a_recurring_schedule() {
        let every = json!({"days": "daily", "time": "09:00"});
        let input = ScheduleInput {
            every: Some(&every),
            timezone: Some("Europe/London"),
            start: Some("2026-07-10T00:00"),
            end: Some("2026-07-12T09:00"),
            ..Default::default()
        };
        let parsed = spec(input, "2026-07-01T00:00:00Z").unwrap();
        assert_eq!(parsed.end_instant(), Some(ts("2026-07-12T08:00:00Z")));
        // On or after start; strictly before end.
        assert_eq!(
            runs(&parsed, "2026-07-01T00:00:00Z", 5),
            ["2026-07-10T08:00:00Z", "2026-07-11T08:00:00Z"]
        );

        let refused = |input: ScheduleInput<'_>| spec(input, "2026-07-01T00:00:00Z").unwrap_err();
        let backwards = ScheduleInput {
            every: Some(&every),
            start: Some("2026-08-01T00:00"),
            end: Some("2026-07-15T00:00"),
            ..Default::default()
        };
        assert_eq!(
            refused(backwards),
            ScheduleError::End("must be after start".into())
        );
        let past_end = ScheduleInput {
            every: Some(&every),
            end: Some("2026-06-01T00:00"),
            ..Default::default()
        };
        assert!(refused(past_end).to_string().contains("in the past"));
        let no_run_before_end = ScheduleInput {
            cron: Some("cron(0 9 25 * ? *)"),
            end: Some("2026-07-20T00:00"),
            ..Default::default()
        };
        assert!(matches!(refused(no_run_before_end), ScheduleError::End(_)));
        let at_with_start = ScheduleInput {
            at: Some("2026-12-24T09:00"),
            start: Some("2026-12-01T00:00"),
            ..Default::default()
        };
        assert!(matches!(refused(at_with_start), ScheduleError::Start(_)));
        let at_with_end = ScheduleInput {
            at: Some("2026-12-24T09:00"),
            end: Some("2026-12-31T00:00"),
            ..Default::default()
        };
        assert!(matches!(refused(at_with_end), ScheduleError::End(_)));
        let bad_start = ScheduleInput {
            every: Some(&every),
            start: Some("next week"),
            ..Default::default()
        };
        assert!(refused(bad_start).to_string().starts_with("start: "));
    }

    #[test]
    fn time_zones_are_iana_names() {
        for (name, canonical) in [
            ("UTC", "UTC"),
            ("Europe/London", "Europe/London"),
            ("america/new_york", "America/New_York"),
            (" Asia/Tokyo ", "Asia/Tokyo"),
        ] {
            assert_eq!(Timezone::parse(name).unwrap().name(), canonical);
        }
        for bad in [
            "Mars/Olympus",
            "",
            "   ",
            "../etc",
            "../../etc/passwd",
            "/usr/share/zoneinfo/Europe/London",
            "Etc/Unknown",
            "Europe/London\0",
            "+01:00",
            "GMT+25",
            &"A".repeat(300),
        ] {
            let err = Timezone::parse(bad).expect_err(bad);
            assert!(err.to_string().starts_with("timezone: "), "{err}");
            assert_eq!(err.field(), "timezone");
        }
        let input = ScheduleInput {
            rate: Some("rate(5 minutes)"),
            timezone: Some("Mars/Olympus"),
            ..Default::default()
        };
        assert!(matches!(
            spec(input, "2026-01-01T00:00:00Z"),
            Err(ScheduleError::Timezone(_))
        ));
    }

    #[test]
    fn weekday_reminder_follows_london_across_both_clock_changes() {
        let every = json!({"days": "weekdays", "time": "09:55"});
        let london = every_in(&every, "Europe/London");
        // Last Sunday of March 2026 is the 29th: Friday is GMT, Monday BST.
        assert_eq!(
            runs(&london, "2026-03-27T10:00:00Z", 2),
            ["2026-03-30T08:55:00Z", "2026-03-31T08:55:00Z"]
        );
        assert_eq!(
            london.next_run(ts("2026-03-27T09:00:00Z")),
            Some(ts("2026-03-27T09:55:00Z"))
        );
        // Last Sunday of October 2026 is the 25th: Friday BST, Monday GMT.
        assert_eq!(
            london.next_run(ts("2026-10-23T08:00:00Z")),
            Some(ts("2026-10-23T08:55:00Z"))
        );
        assert_eq!(
            runs(&london, "2026-10-23T09:00:00Z", 2),
            ["2026-10-26T09:55:00Z", "2026-10-27T09:55:00Z"]
        );
    }

    #[test]
    fn weekday_reminder_follows_new_york_across_both_clock_changes() {
        let every = json!({"weekdays": ["mon", "fri"], "time": "09:55"});
        let new_york = every_in(&every, "America/New_York");
        // Second Sunday of March 2026 is the 8th: Friday EST, Monday EDT.
        assert_eq!(
            new_york.next_run(ts("2026-03-06T12:00:00Z")),
            Some(ts("2026-03-06T14:55:00Z"))
        );
        assert_eq!(
            new_york.next_run(ts("2026-03-06T15:00:00Z")),
            Some(ts("2026-03-09T13:55:00Z"))
        );
        // First Sunday of November 2026 is the 1st: Friday EDT, Monday EST.
        assert_eq!(
            runs(&new_york, "2026-10-30T12:00:00Z", 2),
            ["2026-10-30T13:55:00Z", "2026-11-02T14:55:00Z"]
        );
    }

    #[test]
    fn half_past_one_in_london_skips_spring_and_runs_once_in_autumn() {
        let daily = cron_in("cron(30 1 * * ? *)", "Europe/London");
        // 2026-03-29: 01:00 GMT jumps to 02:00 BST, so 01:30 never happens
        // that day and the run is skipped.
        assert_eq!(
            runs(&daily, "2026-03-28T12:00:00Z", 2),
            ["2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"]
        );
        // 2026-10-25: 02:00 BST falls back to 01:00 GMT, so 01:30 happens
        // at 00:30Z and again at 01:30Z; it runs at the first only.
        assert_eq!(
            runs(&daily, "2026-10-24T12:00:00Z", 3),
            [
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z",
                "2026-10-27T01:30:00Z"
            ]
        );
        // Asked during the repeated hour, after the first 01:30: not again.
        assert_eq!(
            daily.next_run(ts("2026-10-25T01:10:00Z")),
            Some(ts("2026-10-26T01:30:00Z"))
        );
    }

    #[test]
    fn sub_hourly_cron_through_the_repeated_hour_runs_each_local_time_once() {
        let quarter = cron_in("cron(0/15 1 * * ? *)", "Europe/London");
        assert_eq!(
            runs(&quarter, "2026-10-24T23:59:00Z", 5),
            [
                "2026-10-25T00:00:00Z",
                "2026-10-25T00:15:00Z",
                "2026-10-25T00:30:00Z",
                "2026-10-25T00:45:00Z",
                "2026-10-26T01:00:00Z"
            ]
        );
    }

    #[test]
    fn error_messages_name_their_field() {
        let cases = [
            (ScheduleError::At("x".into()), "at"),
            (ScheduleError::Cron("x".into()), "cron"),
            (ScheduleError::Rate("x".into()), "rate"),
            (ScheduleError::Every("x".into()), "every"),
            (ScheduleError::Timezone("x".into()), "timezone"),
            (ScheduleError::Start("x".into()), "start"),
            (ScheduleError::End("x".into()), "end"),
        ];
        for (err, field) in cases {
            assert_eq!(err.field(), field);
            assert!(err.to_string().starts_with(&format!("{field}: ")));
        }
    }

    /// Pieces cron fields are made of, so that generated text reaches past
    /// the field count into every branch of the field parsers.
    fn cron_token() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "0", "1", "5", "7", "15", "23", "31", "59", "60", "2026", "2199", "*", "?", "L",
                "W", "LW", "#", "/", "-", ",", "MON", "FRI", "JAN", "DEC", "x", "", "é",
            ]),
            1..5,
        )
        .prop_map(|parts| parts.concat())
    }

    /// One field: mostly a plausible value for its place (so that many
    /// expressions parse and get evaluated), sometimes any token.
    fn cron_field(plausible: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(plausible).prop_map(str::to_string),
            1 => cron_token(),
        ]
    }

    /// Six fields, day-of-month or day-of-week `?` most of the time.
    fn cron_text() -> impl Strategy<Value = String> {
        (
            cron_field(&["0", "*", "0/15", "5-10", "0,30", "59", "1/7"]),
            cron_field(&["9", "*", "1", "0-23/5", "1,2,3", "23"]),
            cron_field(&[
                "?", "?", "*", "L", "LW", "15W", "1W", "31", "29", "1-7", "*/10",
            ]),
            cron_field(&["*", "2", "FEB", "MAR-OCT", "1/3", "DEC"]),
            cron_field(&["?", "?", "*", "MON-FRI", "1#5", "6L", "L", "SUN,SAT", "2"]),
            cron_field(&["*", "2026", "2027-2030", "2199", "1970/10"]),
        )
            .prop_map(|(minutes, hours, dom, month, dow, year)| {
                format!("cron({minutes} {hours} {dom} {month} {dow} {year})")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn cron_parser_never_panics_on_any_text(text in any::<String>()) {
            let _ = CronExpr::parse(&text);
            let _ = CronExpr::parse(&format!("cron({text})"));
            let _ = Rate::parse(&text);
            let _ = Timezone::parse(&text);
            let _ = parse_local(&text);
        }

        #[test]
        fn cron_like_text_never_panics_and_runs_move_forward(
            text in prop_oneof![
                cron_text(),
                prop::collection::vec(cron_token(), 5..8)
                    .prop_map(|fields| format!("cron({})", fields.join(" "))),
            ],
            zone in prop::sample::select(vec![
                "UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe",
            ]),
            after in 0_i64..7_258_118_400,
        ) {
            if let Ok(cron) = CronExpr::parse(&text) {
                // What parsed is written back in a form that parses the same.
                let again = CronExpr::parse(&cron.expression());
                prop_assert_eq!(again.as_ref(), Ok(&cron));
                let zone = TimeZone::get(zone).expect("a bundled zone");
                let after = Timestamp::from_second(after).expect("in range");
                if let Some(next) = cron.next_after(&zone, after) {
                    prop_assert!(next > after);
                    // It is a run: nothing between `after` and `next` runs.
                    let again = cron.next_after(&zone, next - SignedDuration::from_nanos(1));
                    prop_assert_eq!(again, Some(next));
                }
            }
        }
    }
}
