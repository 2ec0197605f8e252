//! `calicoctl node fleet`: `node run`'s files for every host of an
//! inventory. Each host's options become `node run` words, parsed, planned
//! and emitted by the very code `node run` uses (`render.rs`); the fleet
//! only adds the inventory, all-or-nothing validation, output per host
//! directory (`sink.rs`) and the rollout playbook.

mod import;
mod live;
mod render;
mod sink;

use super::report::Report;
use super::{Error, OptionError};
use crate::cli::{self, FleetArgs};
use crate::emit::{self, Format};
use crate::inventory;
use crate::inventory::confined::InventoryCode;
use crate::inventory::trust::Trust;
use crate::outdir;
use crate::outdir::modes::ModesChoice;
use crate::terminal::{ColorChoice, Progress};
use render::render_into;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn format_of(name: &str) -> Result<Format, Error> {
    let format = Format::parse(name)?;
    if format == Format::Kubernetes {
        return Err(OptionError::FleetKubernetes.into());
    }
    if !format.per_host() {
        let names: Vec<&str> = Format::ALL
            .into_iter()
            .filter(|f| f.per_host())
            .map(Format::name)
            .collect();
        return Err(OptionError::FleetNotPerHost(names.join(", ")).into());
    }
    Ok(format)
}

/// A fleet allocates and frees millions of small blocks on every core:
/// glibc's malloc spent much of the run giving memory back to the system
/// (trimming the heap top) only to ask for it again. Keep it for reuse.
/// (A larger mmap threshold and top pad were tried too: each raised peak
/// RSS past 64 MiB for 10,000 hosts for no measurable speed.)
fn tune_allocator() {
    // SAFETY: mallopt only sets glibc allocator parameters.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

pub fn main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    let Some(args) =
        super::options_or_help(cli::parse::<FleetArgs>(all_args, words, cli::FLEET_HELP)?)
    else {
        return Ok(0);
    };
    if args.schema {
        out!("{}", inventory::schema::native_schema());
        return Ok(0);
    }
    if args.report_schema {
        out!("{}", super::report::SCHEMA);
        return Ok(0);
    }
    let format = format_of(&args.output)?;
    let colour = ColorChoice::parse(&args.color)?;
    let modes = ModesChoice::parse(&args.modes)?;
    let report = Report::parse(&args.report)?;
    let batch = playbook_options(&args, format)?;
    tune_allocator();
    let limits = live::Limits::parse(&args.forks, &args.timeout)?;
    let hosts = read_inventory(&args.hosts, all_args)?;
    let trust = trust_of(&args.hosts);
    let progress = Progress::new(hosts.hosts.len());
    if args.check && args.out_dir.is_none() {
        let (planned, note) = render::plan_all(&hosts, &trust, &progress)?;
        progress.finish();
        let progress = Progress::new(planned.len());
        let status = live::run(&planned, limits, &progress, report)?;
        // Once the report is out, as for files.
        if let Some(note) = note {
            errln!("{note}");
        }
        return Ok(status);
    }
    let result = match &args.out_dir {
        None => to_stdout(&hosts, format, &trust, &progress),
        Some(dir) => {
            let playbook = batch
                .map(|b| {
                    let names: Vec<&str> = hosts.hosts.iter().map(|h| h.name.as_str()).collect();
                    emit::playbook::playbook(format, &names, b)
                })
                .transpose()?;
            if let Some(p) = &playbook
                && hosts.hosts.iter().any(|h| h.name == p.file_name)
            {
                return Err(OptionError::HostNamedLikePlaybook(p.file_name.clone()).into());
            }
            let run = Run {
                dir: Path::new(dir),
                hosts: &hosts,
                format,
                trust: &trust,
                modes,
                progress: &progress,
                report,
            };
            if args.check {
                run.check(playbook.as_ref(), colour)
            } else {
                run.write(playbook.as_ref())
            }
        }
    };
    progress.finish();
    result
}

/// Every host's files to stdout, once every host is valid.
fn to_stdout(
    hosts: &inventory::Inventory,
    format: Format,
    trust: &Trust,
    progress: &Progress,
) -> Result<u8, Error> {
    let mut stdout = sink::Stdout::new();
    let warnings = render_into(hosts, format, trust, progress, &mut stdout)?;
    progress.finish();
    // The files first: a closed pipe ends the run before any warning.
    stdout.print()?;
    for w in &warnings {
        errln!("{w}");
    }
    Ok(0)
}

/// A fleet written into, or compared with, its out dir.
struct Run<'a> {
    dir: &'a Path,
    hosts: &'a inventory::Inventory,
    format: Format,
    trust: &'a Trust,
    modes: ModesChoice,
    progress: &'a Progress,
    report: Report,
}

impl Run<'_> {
    /// The out dir's host directories not in the inventory (none when it
    /// does not exist).
    fn strays(&self, tree: Option<&outdir::tree::Tree>) -> Result<Vec<PathBuf>, Error> {
        let Some(tree) = tree else {
            return Ok(Vec::new());
        };
        Ok(strays(&outdir::subdirs(tree)?, self.hosts)
            .into_iter()
            .map(|name| self.dir.join(name))
            .collect())
    }

    fn settings(&self) -> Result<outdir::Settings, Error> {
        Ok(outdir::Settings::from_env(|name| std::env::var(name).ok())?)
    }

    /// `--check`: compare every host's files, writing nothing.
    fn check(&self, playbook: Option<&emit::Artifact>, colour: ColorChoice) -> Result<u8, Error> {
        let opened = self.settings()?.lock_for_check(self.dir)?;
        let tree = opened.as_ref().map(|(tree, _lock)| tree);
        let strays = self.strays(tree)?;
        let mut sink = sink::Check {
            drift: outdir::check::Drift::new(self.modes.for_dir(self.dir)),
            dir: self.dir,
            tree,
            format: self.format,
        };
        let warnings = render_into(
            self.hosts,
            self.format,
            self.trust,
            self.progress,
            &mut sink,
        )?;
        self.progress.finish();
        let mut drift = sink.drift;
        if let Some(p) = playbook {
            drift.add(&[placed_playbook(self.dir, p)], tree)?;
        }
        let scan = outdir::temporaries::Scan::RootAndHosts;
        drift.finish(&outdir::temporaries::find(tree, scan)?, &strays);
        // The report first: a closed pipe ends the run before any warning.
        let status = match self.report {
            Report::Text => drift.print(self.dir, colour.for_stdout()),
            Report::Json => drift.print_json(self.dir),
        };
        for w in &warnings {
            errln!("{w}");
        }
        Ok(status)
    }

    /// Write every host's files: staged host by host as they are rendered,
    /// renamed together once every host is valid.
    fn write(&self, playbook: Option<&emit::Artifact>) -> Result<u8, Error> {
        let fresh = !self.dir.exists();
        let result = self.write_locked(playbook);
        if result.is_err() && fresh {
            // Nothing was written: the directory this run made goes too.
            let _ = std::fs::remove_file(self.dir.join(outdir::lock::LOCK_FILE));
            let _ = std::fs::remove_dir(self.dir);
        }
        result
    }

    fn write_locked(&self, playbook: Option<&emit::Artifact>) -> Result<u8, Error> {
        let settings = self.settings()?;
        let (tree, lock) = settings.lock_for_write(self.dir)?;
        let strays = self.strays(Some(&tree))?;
        let scan = outdir::temporaries::Scan::RootAndHosts;
        let mut writer = outdir::write::Writer::begin(&tree, scan, settings.pause)?;
        let mut sink = sink::Stage {
            writer: &mut writer,
            dir: self.dir,
            format: self.format,
        };
        let warnings = match render_into(
            self.hosts,
            self.format,
            self.trust,
            self.progress,
            &mut sink,
        ) {
            Ok(warnings) => warnings,
            Err(error) => {
                writer.abort();
                return Err(error);
            }
        };
        if let Some(p) = playbook {
            writer.add(&[placed_playbook(self.dir, p)], &|| {})?;
        }
        self.progress.writing(writer.staged());
        let report = writer.commit(&|| self.progress.file_done())?;
        drop(lock);
        self.progress.finish();
        for w in &warnings {
            errln!("{w}");
        }
        outdir::report_stale(report.stale_removed);
        for stray in &strays {
            errln!(
                "WARNING: {} is not in the inventory; its files are left as they are.",
                stray.display()
            );
        }
        for path in &report.removed {
            errln!("Removed {} (no longer generated).", path.display());
        }
        let removed = match report.removed.len() {
            0 => String::new(),
            n => format!(", {n} removed"),
        };
        let hosts = self.hosts.hosts.len();
        let written = report.written.len();
        errln!(
            "{hosts} {}: {written} {} written, {} unchanged{removed}, in {}.",
            if hosts == 1 { "host" } else { "hosts" },
            if written == 1 { "file" } else { "files" },
            report.unchanged.len(),
            self.dir.display()
        );
        Ok(0)
    }
}

/// The playbook, beside the host directories.
fn placed_playbook<'a>(dir: &Path, playbook: &'a emit::Artifact) -> outdir::Placed<'a> {
    outdir::Placed {
        path: dir.join(&playbook.file_name),
        host: None,
        artifact: playbook,
    }
}

/// Host directories (by name) that the inventory does not name.
fn strays(subdirs: &[String], hosts: &inventory::Inventory) -> Vec<String> {
    let known: HashSet<&str> = hosts.hosts.iter().map(|h| h.name.as_str()).collect();
    subdirs
        .iter()
        .filter(|d| !known.contains(d.as_str()))
        .cloned()
        .collect()
}

/// `--playbook` and `--batch`, checked before anything is read: the batch
/// size when a playbook is asked for.
fn playbook_options(
    args: &FleetArgs,
    format: Format,
) -> Result<Option<emit::playbook::Batch>, Error> {
    if !args.playbook {
        if args.batch.is_some() {
            return Err(OptionError::BatchNeedsPlaybook.into());
        }
        return Ok(None);
    }
    if args.out_dir.is_none() {
        return Err(OptionError::PlaybookNeedsOutDir.into());
    }
    emit::playbook::check_format(format)?;
    let batch = args.batch.as_deref().unwrap_or("1");
    Ok(emit::playbook::Batch::parse(batch).map(Some)?)
}

/// The inventory named by `--inventory`, limited by `--limit`.
/// What the hosts may take of this machine, as the command line says.
fn trust_of(args: &cli::InventoryArgs) -> Trust {
    Trust::new(
        args.inventory.as_deref().unwrap_or("-"),
        &args.pass_env,
        &args.allow_path,
    )
}

fn read_inventory(
    args: &cli::InventoryArgs,
    all_args: &[String],
) -> Result<inventory::Inventory, Error> {
    // Required unless --schema: upstream's line for a missing option.
    let Some(path) = &args.inventory else {
        return Err(cli::invalid_option(all_args).into());
    };
    if let Some(limit) = &args.limit {
        inventory::limit::check(limit)?;
    }
    let ansible = inventory::source::ansible_inventory();
    let code = if args.allow_inventory_code {
        InventoryCode::Allowed
    } else {
        InventoryCode::Refused
    };
    let read = inventory::source::read(path, ansible.as_deref(), code)?;
    if let Some(note) = &read.note {
        errln!("{note}");
    }
    let mut hosts = read.inventory;
    if let Some(limit) = &args.limit {
        inventory::limit::apply(&mut hosts, limit)?;
    }
    Ok(hosts)
}

/// `node fleet import`: every host's running calico-node, read as `node
/// import --container` reads one, as one native inventory.
pub fn import_main(all_args: &[String], words: &[String]) -> Result<u8, Error> {
    let Some(args) = super::options_or_help(cli::parse::<cli::FleetImportArgs>(
        all_args,
        words,
        cli::FLEET_IMPORT_HELP,
    )?) else {
        return Ok(0);
    };
    let limits = live::Limits::parse(&args.forks, &args.timeout)?;
    let hosts = read_inventory(&args.hosts, all_args)?;
    let trust = trust_of(&args.hosts);
    let progress = Progress::new(hosts.hosts.len());
    let (planned, _note) = render::plan_all(&hosts, &trust, &progress)?;
    progress.finish();
    let progress = Progress::new(planned.len());
    import::run(&planned, limits, &progress)
}
