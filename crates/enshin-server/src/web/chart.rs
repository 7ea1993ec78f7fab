//! Charts of home readings as SVG made on the server (no chart library in the browser, nothing
//! for the CSP to allow): one or two series over a period, the clinic's thresholds as dashed
//! lines, readings out of bounds marked. A long series is drawn per pixel column as its range
//! and mean, so a year of readings every minute costs what a few hundred do. Colours come from
//! classes in the stylesheet, which also prints.

use std::fmt::Write;

use enshin_core::vitals::{Kind, format};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Drawing size in user units; the SVG scales to the page width.
const WIDTH: i64 = 720;
const HEIGHT: i64 = 294;
const LEFT: i64 = 52;
const RIGHT: i64 = 14;
const TOP: i64 = 28;
const BOTTOM: i64 = 30;
/// Up to this many readings each is drawn as a dot.
const DOTS_MAX: usize = 240;

/// A period a chart covers, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Two weeks.
    TwoWeeks,
    /// Three months.
    ThreeMonths,
    /// One year.
    OneYear,
}

impl Range {
    /// Every range, shortest first.
    pub const ALL: [Range; 3] = [Range::TwoWeeks, Range::ThreeMonths, Range::OneYear];

    /// Its name in addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TwoWeeks => "2w",
            Self::ThreeMonths => "3m",
            Self::OneYear => "1y",
        }
    }

    /// The range of a name; two weeks for anything else.
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .unwrap_or(Self::TwoWeeks)
    }

    /// Its length in days.
    pub fn days(self) -> i64 {
        match self {
            Self::TwoWeeks => 14,
            Self::ThreeMonths => 92,
            Self::OneYear => 366,
        }
    }
}

/// One line of a chart.
pub struct Series {
    /// The kind (sets the precision).
    pub kind: Kind,
    /// Its name in the legend.
    pub label: String,
    /// (measured at, value) oldest first.
    pub points: Vec<(i64, i64)>,
}

/// A threshold drawn across the chart.
pub struct Limit {
    /// The value.
    pub value: i64,
    /// Is it an upper limit (a reading above is out)?
    pub upper: bool,
    /// Its label, e.g. `上限 160`.
    pub label: String,
}

/// What to draw.
pub struct Chart<'a> {
    /// Accessible title.
    pub title: &'a str,
    /// Unit shown on the axis.
    pub unit: &'a str,
    /// Start, unix ms.
    pub from: i64,
    /// End, unix ms.
    pub until: i64,
    /// Where the day labels are cut.
    pub tz: &'a TimeZone,
    /// The period (sets the day labels).
    pub range: Range,
    /// One or two lines.
    pub series: Vec<Series>,
    /// Thresholds of the series' kinds.
    pub limits: Vec<Limit>,
    /// Text when there is nothing to draw.
    pub empty: &'a str,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round step (1, 2 or 5 × 10ⁿ) giving about five ticks over `span`.
fn nice_step(span: i64) -> i64 {
    let raw = (span / 5).max(1);
    let mut magnitude = 1i64;
    while magnitude * 10 <= raw {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10)
}

/// The value axis: lowest and highest shown, and the tick step, in the kind's steps.
fn value_axis(values: impl Iterator<Item = i64>, kind: Kind) -> (i64, i64, i64) {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (lo, hi) = (kind.spec().min, kind.spec().max);
    }
    // At least a fortieth of the plausible range either side, so a single reading or a flat
    // series does not fill the chart with noise-sized ticks.
    let spec = kind.spec();
    let pad = ((hi - lo) / 10).max((spec.max - spec.min) / 40).max(1);
    let step = nice_step(hi - lo + 2 * pad);
    let lo = ((lo - pad).div_euclid(step)) * step;
    let hi = ((hi + pad + step - 1).div_euclid(step)) * step;
    (lo, hi, step)
}

/// Instants of the day labels: midnights every 2 days (two weeks), every 2 weeks (three
/// months), or the first of each month (a year).
fn day_ticks(from: i64, until: i64, tz: &TimeZone, range: Range) -> Vec<(i64, String)> {
    let Ok(start) = Timestamp::from_millisecond(from) else {
        return Vec::new();
    };
    let mut day = start.to_zoned(tz.clone()).date();
    if range == Range::OneYear {
        day = day.first_of_month();
    }
    let mut ticks = Vec::new();
    for _ in 0..40 {
        let Ok(at) = day.to_zoned(tz.clone()) else {
            break;
        };
        let ms = at.timestamp().as_millisecond();
        if ms > until {
            break;
        }
        if ms >= from {
            ticks.push((ms, format!("{}/{}", day.month(), day.day())));
        }
        let next = match range {
            Range::TwoWeeks => day.checked_add(2.days()),
            Range::ThreeMonths => day.checked_add(14.days()),
            Range::OneYear => day.checked_add(1.month()),
        };
        match next {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    ticks
}

/// The chart as an SVG element.
pub fn svg(c: &Chart<'_>) -> String {
    let kind = c.series.first().map_or(Kind::Pulse, |s| s.kind);
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let values = c
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(c.limits.iter().map(|l| l.value));
    let (lo, hi, step) = value_axis(values, kind);
    let span_t = (c.until - c.from).max(1);
    let x = |t: i64| LEFT as f64 + (t - c.from) as f64 * pw as f64 / span_t as f64;
    let y = |v: i64| TOP as f64 + (hi - v) as f64 * ph as f64 / (hi - lo).max(1) as f64;
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        escape(c.title),
        escape(c.title)
    );
    let _ = write!(
        out,
        "<rect class=\"plot\" x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\"/>"
    );
    let mut v = lo;
    while v <= hi {
        let yy = y(v);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT - 6,
            yy + 4.0,
            format(kind, v)
        );
        v += step;
    }
    let _ = write!(
        out,
        "<text class=\"unit\" x=\"4\" y=\"{}\">{}</text>",
        TOP - 12,
        escape(c.unit)
    );
    for (t, label) in day_ticks(c.from, c.until, c.tz, c.range) {
        let xx = x(t);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{}\"/><text class=\"tick\" x=\"{xx:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            TOP + ph,
            HEIGHT - 10
        );
    }
    for l in &c.limits {
        let yy = y(l.value);
        let _ = write!(
            out,
            "<line class=\"limit\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"limit-label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + pw,
            LEFT + pw - 4,
            if l.upper { yy - 4.0 } else { yy + 13.0 },
            escape(&l.label)
        );
    }
    let out_of_bounds = |v: i64| {
        c.limits
            .iter()
            .any(|l| if l.upper { v > l.value } else { v < l.value })
    };
    for (i, s) in c.series.iter().enumerate() {
        draw_series(&mut out, s, i, &x, &y, pw, &out_of_bounds);
    }
    if c.series.iter().all(|s| s.points.is_empty()) {
        let _ = write!(
            out,
            "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            LEFT + pw / 2,
            TOP + ph / 2,
            escape(c.empty)
        );
    }
    for (i, s) in c.series.iter().enumerate() {
        if c.series.len() > 1 {
            let lx = LEFT + 40 + 150 * i as i64;
            let _ = write!(
                out,
                "<line class=\"s{i}\" x1=\"{lx}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/><text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>",
                lx + 18,
                TOP - 16,
                TOP - 16,
                lx + 22,
                TOP - 12,
                escape(&s.label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

fn draw_series(
    out: &mut String,
    s: &Series,
    i: usize,
    x: &dyn Fn(i64) -> f64,
    y: &dyn Fn(i64) -> f64,
    pw: i64,
    out_of_bounds: &dyn Fn(i64) -> bool,
) {
    if s.points.is_empty() {
        return;
    }
    let columns = usize::try_from(pw).unwrap_or(1);
    if s.points.len() <= columns {
        let mut path = String::new();
        for (t, v) in &s.points {
            let _ = write!(path, "{:.1},{:.1} ", x(*t), y(*v));
        }
        let _ = write!(
            out,
            "<polyline class=\"s{i}\" points=\"{}\"/>",
            path.trim_end()
        );
        if s.points.len() <= DOTS_MAX {
            for (t, v) in &s.points {
                let class = if out_of_bounds(*v) { "out" } else { "dot" };
                let _ = write!(
                    out,
                    "<circle class=\"{class} s{i}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                    x(*t),
                    y(*v)
                );
            }
        }
        return;
    }
    // Per pixel column: the range as a band and the mean as the line.
    let mut buckets: Vec<Option<(i64, i64, i64, i64)>> = vec![None; columns + 1];
    let left = LEFT as f64;
    for (t, v) in &s.points {
        let col = ((x(*t) - left).max(0.0) as usize).min(columns);
        let b = buckets[col].get_or_insert((*v, *v, 0, 0));
        b.0 = b.0.min(*v);
        b.1 = b.1.max(*v);
        b.2 += *v;
        b.3 += 1;
    }
    let filled: Vec<(usize, (i64, i64, i64, i64))> = buckets
        .into_iter()
        .enumerate()
        .filter_map(|(c, b)| b.map(|b| (c, b)))
        .collect();
    let px = |c: usize| left + c as f64 + 0.5;
    let mut band = String::new();
    for (c, (_, max, _, _)) in &filled {
        let _ = write!(band, "{:.1},{:.1} ", px(*c), y(*max));
    }
    for (c, (min, _, _, _)) in filled.iter().rev() {
        let _ = write!(band, "{:.1},{:.1} ", px(*c), y(*min));
    }
    let _ = write!(
        out,
        "<polygon class=\"band b{i}\" points=\"{}\"/>",
        band.trim_end()
    );
    let mut mean = String::new();
    for (c, (_, _, sum, n)) in &filled {
        let _ = write!(mean, "{:.1},{:.1} ", px(*c), y(sum / n.max(&1)));
    }
    let _ = write!(
        out,
        "<polyline class=\"s{i}\" points=\"{}\"/>",
        mean.trim_end()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(i64, i64)>, limits: Vec<Limit>) -> String {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        let until = 1_800_000_000_000;
        svg(&Chart {
            title: "血圧 <2週間>",
            unit: "mmHg",
            from: until - 14 * 86_400_000,
            until,
            tz: &tz,
            range: Range::TwoWeeks,
            series: vec![Series {
                kind: Kind::Systolic,
                label: "上".into(),
                points,
            }],
            limits,
            empty: "記録がありません",
        })
    }

    #[test]
    fn a_few_readings_are_dots_and_those_out_of_bounds_are_marked() {
        let until = 1_800_000_000_000;
        let svg = chart(
            vec![(until - 3_600_000, 150), (until - 1_800_000, 172)],
            vec![Limit {
                value: 160,
                upper: true,
                label: "上限 160".into(),
            }],
        );
        assert!(svg.starts_with("<svg class=\"chart\""));
        assert!(svg.contains("<title>血圧 &lt;2週間&gt;</title>"));
        assert_eq!(svg.matches("class=\"dot s0\"").count(), 1);
        assert_eq!(svg.matches("class=\"out s0\"").count(), 1);
        assert!(svg.contains("class=\"limit\""));
        assert!(svg.contains(">上限 160</text>"));
        assert!(!svg.contains("style="), "the CSP allows no inline style");
        assert_eq!(
            svg.matches("text-anchor=\"middle\">").count(),
            7,
            "a label every 2 days"
        );
    }

    #[test]
    fn a_long_series_is_drawn_per_pixel_column() {
        let until = 1_800_000_000_000;
        let from = until - 14 * 86_400_000;
        let points: Vec<(i64, i64)> = (0..100_000)
            .map(|i| (from + i * 12_096, 120 + (i % 40)))
            .collect();
        let svg = chart(points, Vec::new());
        assert!(svg.contains("class=\"band b0\""));
        assert!(!svg.contains("<circle"));
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
    }

    #[test]
    fn no_readings_says_so_and_the_axis_is_round() {
        let svg = chart(Vec::new(), Vec::new());
        assert!(svg.contains("記録がありません"));
        assert_eq!(nice_step(230), 50);
        assert_eq!(nice_step(3), 1);
        assert_eq!(
            value_axis([121, 179].into_iter(), Kind::Systolic),
            (100, 200, 20)
        );
        assert_eq!(Range::parse("1y"), Range::OneYear);
        assert_eq!(Range::parse("<script>"), Range::TwoWeeks);
    }
}
