//! Where a fleet's rendered chunks go. Each sink holds at most what the
//! all-or-nothing rule needs: stdout cannot take back what it printed, so
//! its text is spooled (in memory while small, then in an unnamed 0600
//! temporary file, never a name another process could open) and printed
//! only once every host is valid; the out dir stages temporaries that stay
//! invisible until every host is valid and they are renamed; a check only
//! compares.

use super::super::{Error, Spooling};
use super::render::{Rendered, Sink};
use crate::emit::Format;
use crate::outdir;
use std::io::{Seek, Write};
use std::path::Path;

/// Stdout's text in memory up to this size, then in a temporary file.
const SPOOL_IN_MEMORY: usize = 8 << 20;

/// Every file under `# FILE: <host>/<name>`, files apart by a blank line
/// (as `node run` prints several files), printed at the end.
#[derive(Default)]
pub struct Stdout {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
    first: bool,
}

/// An unnamed file in the temporary directory, readable by us alone
/// (`O_TMPFILE`, or where the file system has none a file made with a
/// random name, 0600, and unlinked at once: tempfile does both).
fn unnamed_temporary() -> Result<std::fs::File, Error> {
    tempfile::tempfile().map_err(|error| Error::Spool {
        what: Spooling::Open,
        error,
    })
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout {
            first: true,
            ..Stdout::default()
        }
    }

    fn spill(&mut self) -> Result<(), Error> {
        let fail = |error| Error::Spool {
            what: Spooling::Write,
            error,
        };
        if self.file.is_none() {
            self.file = Some(unnamed_temporary()?);
        }
        if let Some(file) = &mut self.file {
            file.write_all(&self.memory).map_err(fail)?;
        }
        self.memory.clear();
        Ok(())
    }

    /// Print everything held, in order (a failed write to stdout ends the
    /// run as `stdio` says).
    pub fn print(mut self) -> Result<(), Error> {
        use std::io::Read;
        let fail = |error| Error::Spool {
            what: Spooling::ReadBack,
            error,
        };
        if let Some(mut file) = self.file.take() {
            file.rewind().map_err(fail)?;
            let mut chunk = vec![0; 1 << 16];
            loop {
                match file.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => crate::stdio::out_bytes(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(fail(e)),
                }
            }
        }
        crate::stdio::out_bytes(&self.memory);
        crate::stdio::flush_out();
        Ok(())
    }
}

impl Sink for Stdout {
    fn take(&mut self, chunk: &[Rendered]) -> Result<(), Error> {
        for r in chunk {
            for a in &r.artifacts {
                let gap = if self.first { "" } else { "\n" };
                self.first = false;
                let _ = writeln!(self.memory, "{gap}# FILE: {}/{}", r.host, a.file_name);
                self.memory.extend_from_slice(a.text.as_bytes());
            }
        }
        if self.memory.len() > SPOOL_IN_MEMORY {
            self.spill()?;
        }
        Ok(())
    }
}

/// Stages each host's changed files in the out dir as they come, and the
/// removal of those it no longer gets.
pub struct Stage<'w, 'r> {
    pub writer: &'w mut outdir::write::Writer<'r>,
    pub dir: &'w Path,
    pub format: Format,
}

impl Sink for Stage<'_, '_> {
    fn take(&mut self, chunk: &[Rendered]) -> Result<(), Error> {
        for r in chunk {
            let placed = outdir::placed_in(self.dir, Some(&r.host), &r.artifacts);
            self.writer.add(&placed, &|| {})?;
            self.writer.remove(&outdir::gone(
                self.dir,
                Some(&r.host),
                self.format.optional_files(),
                &r.artifacts,
            ))?;
        }
        self.writer.poll();
        Ok(())
    }
}

/// Compares each host's files with the out dir as they come.
pub struct Check<'w> {
    pub drift: outdir::check::Drift,
    pub dir: &'w Path,
    pub tree: Option<&'w outdir::tree::Tree>,
    pub format: Format,
}

impl Sink for Check<'_> {
    fn take(&mut self, chunk: &[Rendered]) -> Result<(), Error> {
        for r in chunk {
            let placed = outdir::placed_in(self.dir, Some(&r.host), &r.artifacts);
            self.drift.add(&placed, self.tree)?;
            let gone = outdir::gone(
                self.dir,
                Some(&r.host),
                self.format.optional_files(),
                &r.artifacts,
            );
            self.drift.gone(&gone, self.tree)?;
        }
        Ok(())
    }
}
