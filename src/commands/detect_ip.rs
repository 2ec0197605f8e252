//! `calicoctl node detect-ip`: calico/node's address choice, shown before
//! the node runs.

use super::{Error, OptionError, environment, interface_source};
use crate::cli;
use crate::ip::detection;
use crate::ip::methods::{self, SystemResolver};
use crate::render;

/// One family's report for `detect-ip`'s text template.
#[derive(serde::Serialize)]
struct FamilyReport {
    family: u8,
    method: String,
    preamble: Option<String>,
    steps: Vec<detection::Step>,
    detection: Option<detection::Detection>,
}

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    use methods::Family;
    let Some(args) = super::options_or_help(cli::parse::<cli::DetectIpArgs>(
        all_args,
        words,
        cli::DETECT_HELP,
    )?) else {
        return Ok(0);
    };
    let json = match args.output.as_str() {
        "text" => false,
        "json" => true,
        other => {
            return Err(OptionError::DetectFormat(other.to_string()).into());
        }
    };
    if json && args.explain {
        return Err(OptionError::ExplainNeedsText.into());
    }
    let (want4, want6) = if args.ipv4 || args.ipv6 {
        (args.ipv4, args.ipv6)
    } else {
        (true, false)
    };
    let families: Vec<(Family, &String)> = [
        (want4, Family::V4, &args.ip_autodetection_method),
        (want6, Family::V6, &args.ip6_autodetection_method),
    ]
    .into_iter()
    .filter(|(wanted, _, _)| *wanted)
    .map(|(_, f, m)| (f, m))
    .collect();
    let methods = families
        .iter()
        .map(|(f, m)| methods::parse_method(m, *f, &SystemResolver))
        .collect::<Result<Vec<_>, _>>()?;

    let env = environment();
    let (table, reach) = interface_source(&env)?;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for ((family, text), method) in families.iter().zip(&methods) {
        let outcome = detection::detect(&table, method, *family, &SystemResolver, reach.as_ref());
        if let Err(failure) = &outcome.result {
            errors.push((*family, failure.clone()));
        }
        reports.push(FamilyReport {
            family: family.number(),
            method: text.to_string(),
            preamble: outcome.preamble,
            steps: outcome.steps,
            detection: outcome.result.ok(),
        });
    }

    if json {
        let pick = |n: u8| {
            reports
                .iter()
                .find(|r| r.family == n)
                .and_then(|r| r.detection.clone())
        };
        let value = serde_json::json!({ "ipv4": pick(4), "ipv6": pick(6) });
        outln!("{value}");
    } else {
        let context = serde_json::json!({ "explain": args.explain, "families": reports });
        out!("{}", render::render_report("detect-ip.txt.j2", &context)?);
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Detect(errors))
    }
}
