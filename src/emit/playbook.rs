//! `node fleet --playbook`: an Ansible playbook that delivers each host's
//! files and rolls calico/node out safely: in batches (`serial`, from
//! `--batch`), restarting only hosts whose files changed, waiting for each
//! restarted host to report success before the next batch, and stopping at
//! the first failure (every restart withdraws that node's routes). An
//! emitter like the others: a template (`templates/calico-node.yml.j2`)
//! over one small context, the same bytes for the same inputs. It holds no
//! secrets: the files come from the host directories beside it.

use super::EmitError;
use super::{Artifact, Format};
use crate::render;
use serde::Serialize;

/// How many hosts a batch restarts at most: a count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    Hosts(u32),
    Percent(u8),
}

impl Batch {
    pub fn parse(text: &str) -> Result<Batch, EmitError> {
        let bad = || EmitError::BadBatch {
            text: text.to_string(),
        };
        let (digits, percent) = match text.strip_suffix('%') {
            Some(p) => (p, true),
            None => (text, false),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match (digits.parse::<u32>(), percent) {
            (Ok(p @ 1..=100), true) => Ok(Batch::Percent(p as u8)),
            (Ok(n @ 1..), false) => Ok(Batch::Hosts(n)),
            _ => Err(bad()),
        }
    }

    fn serial(self) -> String {
        match self {
            Batch::Hosts(n) => n.to_string(),
            Batch::Percent(p) => format!("{p}%"),
        }
    }
}

/// One host file the playbook installs.
#[derive(Serialize)]
struct Install {
    name: &'static str,
    dest: &'static str,
    mode: &'static str,
    secret: bool,
    /// Only some hosts have it (Quadlet's env file: only with secrets).
    optional: bool,
}

#[derive(Serialize)]
struct Context<'a> {
    format: &'static str,
    hosts: &'a [&'a str],
    serial: String,
    dirs: Vec<&'static str>,
    files: Vec<Install>,
    /// Generated Quadlet units cannot be enabled; their [Install] does it.
    enable: bool,
}

const fn install(
    name: &'static str,
    dest: &'static str,
    mode: &'static str,
    secret: bool,
) -> Install {
    Install {
        name,
        dest,
        mode,
        secret,
        optional: false,
    }
}

/// Where each format's files go on a host, as docs/formats.md and
/// docs/ansible-rollout.md say.
fn layout(format: Format) -> Result<(Vec<&'static str>, Vec<Install>, bool), EmitError> {
    const UNIT: Install = install(
        "calico-node.service",
        "/etc/systemd/system/calico-node.service",
        "0644",
        false,
    );
    match format {
        Format::Systemd => Ok((Vec::new(), vec![UNIT], true)),
        Format::SystemdEnvfile => Ok((
            vec!["/etc/calico"],
            vec![
                install(
                    "calico-node.env",
                    "/etc/calico/calico-node.env",
                    "0600",
                    true,
                ),
                UNIT,
            ],
            true,
        )),
        Format::Quadlet => {
            let mut env = install(
                "calico-node.env",
                "/etc/containers/systemd/calico-node.env",
                "0600",
                true,
            );
            env.optional = true;
            let container = install(
                "calico-node.container",
                "/etc/containers/systemd/calico-node.container",
                "0644",
                false,
            );
            Ok((vec!["/etc/containers/systemd"], vec![env, container], false))
        }
        other => Err(EmitError::PlaybookFormat {
            format: other.name(),
        }),
    }
}

/// Whether `--playbook` can deliver `format` (checked before rendering).
pub fn check_format(format: Format) -> Result<(), EmitError> {
    layout(format).map(|_| ())
}

/// The playbook for `hosts` (in the fleet's order), as `calico-node.yml`.
pub fn playbook(format: Format, hosts: &[&str], batch: Batch) -> Result<Artifact, EmitError> {
    let (dirs, files, enable) = layout(format)?;
    let context = Context {
        format: format.name(),
        hosts,
        serial: batch.serial(),
        dirs,
        files,
        enable,
    };
    let text = render::render_report("calico-node.yml.j2", &context)?;
    Ok(Artifact::new("calico-node.yml", 0o644, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_counts_or_percentages() {
        assert_eq!(Batch::parse("1").unwrap(), Batch::Hosts(1));
        assert_eq!(Batch::parse("25%").unwrap(), Batch::Percent(25));
        assert_eq!(Batch::parse("100%").unwrap().serial(), "100%");
        for bad in ["0", "0%", "101%", "-1", "+2", "x", "", "%", "1.5", " 2"] {
            assert!(Batch::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_unit_formats_have_a_playbook() {
        for f in [Format::Systemd, Format::SystemdEnvfile, Format::Quadlet] {
            assert!(check_format(f).is_ok());
        }
        for f in [
            Format::Env,
            Format::Compose,
            Format::Script,
            Format::CloudInit,
        ] {
            assert!(matches!(
                check_format(f).unwrap_err(),
                EmitError::PlaybookFormat { .. }
            ));
        }
        let (_, files, _) = layout(Format::SystemdEnvfile).unwrap();
        assert!(files[0].secret && !files[1].secret);
    }
}
