//! Charts drawn as SVG on the server: a sparkline, horizontal bars and a
//! stacked time series with axes, plus the categorical palette the matrix, the
//! map and the legends share.
//!
//! Every function returns markup sized by `viewBox`, so CSS scales it; text is
//! SVG text (the page's fonts), and each mark carries a `<title>` for hovering.

use maud::{Markup, html};

use crate::util;

/// Twelve colours that stay apart for most eyes (Okabe-Ito and Tableau hues),
/// then grey for "other".
pub const PALETTE: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#2f4b7c", "#86bc86", "#d4a6c8",
];
/// The colour of "other" and "unknown".
pub const OTHER: &str = "#bab0ac";

/// The colour of category `i` (grey beyond the palette).
pub fn colour(i: usize) -> &'static str {
    PALETTE.get(i).copied().unwrap_or(OTHER)
}

/// A sparkline of `values`, `w` by `h` pixels.
pub fn sparkline(values: &[u64], w: f64, h: f64, label: &str) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(2) as f64 - 1.0;
    let mut d = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = i as f64 / n * w;
        let y = h - 2.0 - (*v as f64 / max) * (h - 4.0);
        d.push_str(&format!("{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" }));
    }
    let area = if values.is_empty() {
        String::new()
    } else {
        format!("{d}L{w:.1},{h:.1} L0,{h:.1} Z")
    };
    html! {
        svg.spark viewBox={"0 0 " (w) " " (h)} width=(w) height=(h) role="img" aria-label=(label) {
            title { (label) }
            path d=(area) fill="#4e79a733" stroke="none" {}
            path d=(d) fill="none" stroke="#4e79a7" stroke-width="1.5" {}
        }
    }
}

/// One bar of a bar chart.
pub struct Bar {
    /// The label left of the bar.
    pub label: String,
    /// Its value.
    pub value: u64,
    /// What the value says, right of the bar.
    pub text: String,
    /// Its colour.
    pub colour: String,
    /// Where the bar links to, if anywhere.
    pub href: Option<String>,
}

/// Horizontal bars, one row each.
pub fn hbars(bars: &[Bar], width: f64) -> Markup {
    let row = 24.0;
    let label_w = 150.0;
    let text_w = 170.0;
    let h = row * bars.len().max(1) as f64 + 4.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let bar_w = (width - label_w - text_w).max(10.0);
    html! {
        svg.bars viewBox={"0 0 " (width) " " (h)} width=(width) height=(h) role="img" {
            @for (i, b) in bars.iter().enumerate() {
                @let y = i as f64 * row + 2.0;
                @let w = (b.value as f64 / max * bar_w).max(if b.value > 0 { 2.0 } else { 0.0 });
                g {
                    title { (b.label) ": " (b.text) }
                    text x=(label_w - 6.0) y=(y + 16.0) text-anchor="end" class="lbl" { (truncate(&b.label, 22)) }
                    @if let Some(href) = &b.href {
                        a href=(href) { rect x=(label_w) y=(y + 3.0) width=(format!("{w:.1}")) height=(row - 8.0) fill=(b.colour) rx="2" {} }
                    } @else {
                        rect x=(label_w) y=(y + 3.0) width=(format!("{w:.1}")) height=(row - 8.0) fill=(b.colour) rx="2" {}
                    }
                    text x=(label_w + w + 6.0) y=(y + 16.0) class="val" { (b.text) }
                }
            }
        }
    }
}

/// One series of a time chart.
pub struct Series {
    /// Its name (legend).
    pub name: String,
    /// Its colour.
    pub colour: String,
    /// One value per slot of the chart's x axis.
    pub values: Vec<u64>,
}

/// A stacked area chart over `slots` (start times, ns, evenly spaced), with a
/// y axis in bytes, time ticks, and `marks` (slot indexes) flagged in red.
pub fn stacked(
    slots: &[i64],
    series: &[Series],
    marks: &[usize],
    width: f64,
    height: f64,
) -> Markup {
    let (left, right, top, bottom) = (70.0, 10.0, 10.0, 28.0);
    let pw = width - left - right;
    let ph = height - top - bottom;
    let n = slots.len();
    let mut totals = vec![0u64; n];
    for s in series {
        for (t, v) in totals.iter_mut().zip(&s.values) {
            *t = t.saturating_add(*v);
        }
    }
    let max = nice_max(totals.iter().copied().max().unwrap_or(0));
    let x = |i: usize| {
        left + if n <= 1 {
            0.0
        } else {
            i as f64 / (n - 1) as f64 * pw
        }
    };
    let y = |v: u64| top + ph - v as f64 / max as f64 * ph;
    let mut base = vec![0u64; n];
    let mut paths = Vec::new();
    for s in series {
        let mut upper = Vec::with_capacity(n);
        for i in 0..n {
            let v = s.values.get(i).copied().unwrap_or(0);
            let b = base.get(i).copied().unwrap_or(0);
            upper.push(b.saturating_add(v));
        }
        let mut d = String::new();
        for (i, u) in upper.iter().enumerate() {
            d.push_str(&format!(
                "{}{:.1},{:.1} ",
                if i == 0 { "M" } else { "L" },
                x(i),
                y(*u)
            ));
        }
        for i in (0..n).rev() {
            d.push_str(&format!(
                "L{:.1},{:.1} ",
                x(i),
                y(base.get(i).copied().unwrap_or(0))
            ));
        }
        d.push('Z');
        paths.push((d, s));
        base = upper;
    }
    let ticks = 4;
    let xticks = time_ticks(slots, 6);
    html! {
        svg.chart viewBox={"0 0 " (width) " " (height)} width=(width) height=(height) role="img" {
            @for k in 0..=ticks {
                @let v = max / ticks * k;
                line x1=(left) x2=(width - right) y1=(y(v)) y2=(y(v)) class="grid" {}
                text x=(left - 6.0) y=(y(v) + 4.0) text-anchor="end" class="axis" { (util::fmt_bytes(v)) }
            }
            @for (i, label) in &xticks {
                text x=(x(*i)) y=(height - 8.0) text-anchor="middle" class="axis" { (label) }
            }
            @for (d, s) in &paths {
                path d=(d) fill=(s.colour) fill-opacity="0.85" stroke="none" { title { (s.name) } }
            }
            @for i in marks {
                @if let Some(t) = totals.get(*i) {
                    circle cx=(x(*i)) cy=(y(*t)) r="4" class="storm" {
                        title { (slots.get(*i).map(|s| util::fmt_time(*s)).unwrap_or_default()) ": " (util::fmt_bytes(*t)) }
                    }
                }
            }
            @if n == 0 { text x=(width / 2.0) y=(height / 2.0) text-anchor="middle" class="axis" { "—" } }
        }
    }
}

/// A legend: coloured squares with names and, optionally, counts.
pub fn legend(items: &[(String, String, Option<u64>)]) -> Markup {
    html! {
        ul.legend {
            @for (name, colour, count) in items {
                li {
                    svg width="12" height="12" { rect width="12" height="12" rx="2" fill=(colour) {} }
                    " " (name)
                    @if let Some(c) = count { " " span.count { "(" (util::fmt_count(*c)) ")" } }
                }
            }
        }
    }
}

/// The smallest "round" number (1, 2 or 5 times a power of ten) at least `v`
/// and divisible into four ticks.
fn nice_max(v: u64) -> u64 {
    let v = v.max(4);
    let mut p: u64 = 1;
    while p.saturating_mul(10) <= v {
        p = p.saturating_mul(10);
    }
    for m in [1u64, 2, 4, 5, 8, 10] {
        let c = p.saturating_mul(m);
        if c >= v {
            return c.max(4);
        }
    }
    v
}

/// About `want` evenly spaced x-axis labels: dates when the range spans days.
fn time_ticks(slots: &[i64], want: usize) -> Vec<(usize, String)> {
    let n = slots.len();
    if n == 0 {
        return Vec::new();
    }
    let step = n.div_ceil(want).max(1);
    let span = slots.last().copied().unwrap_or(0) - slots.first().copied().unwrap_or(0);
    (0..n)
        .step_by(step)
        .map(|i| {
            let t = util::fmt_time(slots.get(i).copied().unwrap_or(0));
            let label = if span > 2 * util::DAY {
                t.get(5..10).unwrap_or("").to_string()
            } else {
                t.get(5..16).unwrap_or("").to_string()
            };
            (i, label)
        })
        .collect()
}

/// `text` cut to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_max_rounds_up() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(7), 8);
        assert_eq!(nice_max(1_234), 2_000);
        assert_eq!(nice_max(4_100), 5_000);
        assert_eq!(nice_max(100), 100);
    }

    #[test]
    fn stacked_chart_draws_one_path_per_series_and_marks() {
        let slots: Vec<i64> = (0..4).map(|h| h * 3_600 * util::SEC).collect();
        let s = vec![
            Series {
                name: "modbus".into(),
                colour: colour(0).into(),
                values: vec![1, 2, 3, 4],
            },
            Series {
                name: "s7comm".into(),
                colour: colour(1).into(),
                values: vec![4, 3, 2, 1],
            },
        ];
        let svg = stacked(&slots, &s, &[2], 600.0, 200.0).into_string();
        assert_eq!(svg.matches("<path").count(), 2);
        assert_eq!(svg.matches("class=\"storm\"").count(), 1);
        assert!(svg.contains("<title>modbus</title>"));
    }
}
