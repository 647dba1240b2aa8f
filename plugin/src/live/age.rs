//! kubectl's AGE column: `metadata.creationTimestamp` as a short human duration.

use connections_core::syntax::Node;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch of an RFC 3339 UTC time (`2026-11-22T01:23:45Z`).
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// kubectl's `HumanDuration`.
pub fn human(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The AGE of an object, or `<unknown>` without a creation time (objects from a repository).
pub fn of(root: &Node, now: SystemTime) -> String {
    let created = root
        .path(&["metadata", "creationTimestamp"])
        .and_then(Node::as_str)
        .and_then(parse_timestamp);
    let now = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    match created {
        Some(t) => human(Duration::from_secs(now.saturating_sub(t))),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        for (seconds, text) in [
            (45, "45s"),
            (119, "119s"),
            (330, "5m30s"),
            (300, "5m"),
            (3000, "50m"),
            (3 * 3600 + 600, "3h10m"),
            (20 * 3600, "20h"),
            (4 * 86400, "4d"),
            (4 * 86400 + 7200, "4d2h"),
            (100 * 86400, "100d"),
            (3 * 365 * 86400 + 5 * 86400, "3y5d"),
            (10 * 365 * 86400, "10y"),
        ] {
            assert_eq!(human(Duration::from_secs(seconds)), text, "{seconds}");
        }
    }

    #[test]
    fn timestamps_parse() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2026-11-22T01:23:45Z"), Some(1_795_310_625));
        assert_eq!(parse_timestamp("not a time"), None);
    }
}
