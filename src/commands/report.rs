//! How `--check` reports: lines for people (the default), or one JSON
//! document for programs (`--report json`), whose JSON Schema the tool
//! prints (`node fleet --report-schema`). The live report here (one host
//! for `node run --check`, every host for `node fleet --check`); the files
//! report is `outdir::check`'s. Either way the exit status is the same:
//! 0 as planned, 2 drift, 1 a host that could not be checked.

use super::{Error, OptionError};
use crate::live::Outcome;
use serde_json::{Value, json};

/// The JSON Schema of every `--report json` document.
pub const SCHEMA: &str = include_str!("../../templates/check-report.schema.json");

/// `--report`'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    Text,
    Json,
}

impl Report {
    pub fn parse(text: &str) -> Result<Report, Error> {
        match text {
            "text" => Ok(Report::Text),
            "json" => Ok(Report::Json),
            other => Err(OptionError::ReportFormat(other.to_string()).into()),
        }
    }
}

/// One checked host, as the report names it.
pub struct Checked<'a> {
    pub host: &'a str,
    pub container: &'a str,
    pub outcome: &'a Outcome,
}

/// Whether each line starts with the host's name (a fleet) or not (one
/// host, as `node run --check` has always printed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    HostName,
    None,
}

/// Counts of each outcome.
#[derive(Default)]
struct Tally {
    matching: usize,
    drifted: usize,
    unreachable: usize,
}

impl Tally {
    fn of(checked: &[Checked]) -> Tally {
        let mut tally = Tally::default();
        for c in checked {
            match c.outcome {
                Outcome::Matches => tally.matching += 1,
                Outcome::Drifted(_) => tally.drifted += 1,
                Outcome::Unreachable(_) => tally.unreachable += 1,
            }
        }
        tally
    }

    /// 0 every host matches; 2 some drifted, all reached; 1 some not reached.
    fn status(&self) -> u8 {
        match (self.unreachable, self.drifted) {
            (0, 0) => 0,
            (0, _) => 2,
            _ => 1,
        }
    }

    fn word(&self) -> &'static str {
        match (self.unreachable, self.drifted) {
            (0, 0) => "matches",
            (0, _) => "drift",
            _ => "unreachable",
        }
    }
}

/// Print a live report as `format` says; the exit status.
pub fn live(checked: &[Checked], format: Report, prefix: Prefix) -> u8 {
    let tally = Tally::of(checked);
    match format {
        Report::Text => live_text(checked, prefix),
        Report::Json => {
            let text = serde_json::to_string_pretty(&live_json(checked, &tally));
            outln!("{}", text.unwrap_or_default());
        }
    }
    if prefix == Prefix::HostName {
        let hosts = match checked.len() {
            1 => "1 host".to_string(),
            n => format!("{n} hosts"),
        };
        errln!(
            "{hosts}: {} as planned, {} drifted, {} unreachable.",
            tally.matching,
            tally.drifted,
            tally.unreachable
        );
    }
    tally.status()
}

fn live_text(checked: &[Checked], prefix: Prefix) {
    let visible = |text: &str| crate::escape::visible(text).into_owned();
    for c in checked {
        let head = match prefix {
            Prefix::HostName => format!("{}: ", visible(c.host)),
            Prefix::None => String::new(),
        };
        match c.outcome {
            Outcome::Matches => outln!("{head}{} matches the plan.", c.container),
            Outcome::Drifted(differences) => {
                for d in differences {
                    outln!("{head}{}", visible(&d.to_string()));
                }
            }
            Outcome::Unreachable(reason) => outln!("{head}unreachable: {}", visible(reason)),
        }
    }
}

fn live_json(checked: &[Checked], tally: &Tally) -> Value {
    let hosts: Vec<Value> = checked
        .iter()
        .map(|c| match c.outcome {
            Outcome::Matches => json!({"name": c.host, "status": "matches", "differences": []}),
            Outcome::Drifted(differences) => {
                json!({"name": c.host, "status": "drift", "differences": differences})
            }
            Outcome::Unreachable(reason) => {
                json!({"name": c.host, "status": "unreachable", "reason": reason})
            }
        })
        .collect();
    json!({
        "check": "live",
        "status": tally.word(),
        "hosts": hosts,
        "summary": {
            "hosts": checked.len(),
            "matches": tally.matching,
            "drift": tally.drifted,
            "unreachable": tally.unreachable,
        },
    })
}
