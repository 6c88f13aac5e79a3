//! What the benchmark tools share: argument parsing, percentiles, and a
//! Lambda Runtime API to drive function processes with.

pub mod runtime;

use std::collections::HashMap;
use std::time::Duration;

/// `--name value` pairs.
#[derive(Debug, Default)]
pub struct Args(HashMap<String, String>);

impl Args {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let name = flag.strip_prefix("--").ok_or_else(|| format!("expected --name, got '{flag}'"))?;
            let value = args.next().ok_or_else(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value);
        }
        Ok(Self(map))
    }

    pub fn required(&self, name: &str) -> Result<String, String> {
        self.0.get(name).cloned().ok_or_else(|| format!("--{name} is required"))
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => {
                v.parse().ok().filter(|n| *n > 0).ok_or_else(|| format!("--{name} must be a positive number"))
            }
        }
    }
}

/// The `p`th percentile of sorted `values` (nearest rank); zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&values, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn flags_are_parsed_and_checked() {
        let args = Args::parse(["--url", "http://x", "--events", "5"].map(String::from)).expect("parses");
        assert_eq!(args.required("url").as_deref(), Ok("http://x"));
        assert_eq!(args.number("events", 1), Ok(5));
        assert_eq!(args.number("concurrency", 16), Ok(16));
        assert!(args.required("type").is_err());
        assert!(Args::parse(["--url"].map(String::from)).is_err());
        assert!(Args::parse(["url"].map(String::from)).is_err());
        let zero = Args::parse(["--events", "0"].map(String::from)).expect("parses");
        assert!(zero.number("events", 1).is_err());
    }
}
