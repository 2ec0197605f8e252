//! The out dir as directories opened one below the other, never by path
//! twice. An out dir may come from a pull request and be read or written
//! by root in CI, so nothing below it is followed: every entry is looked at
//! with `statat(AT_SYMLINK_NOFOLLOW)` and opened with `O_NOFOLLOW` relative
//! to its directory's descriptor (a file also `O_NONBLOCK`, so a fifo never
//! blocks, and checked again with `fstat` once open). The out dir itself
//! is opened by its path, links followed: it is the user's own layout.
//!
//! What is found where a file or a host directory should be is a
//! [`Found`]: `--check` reports it without reading through it; a write
//! replaces a link, fifo or device where a file goes (a rename replaces the
//! entry, not what it points at) and refuses a host directory that is not
//! a real directory.

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use std::cell::RefCell;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What is at a name that should be a regular file or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Link,
    Directory,
    File,
    Fifo,
    Socket,
    Device,
    Other,
    /// A regular file with more than one name: another name may be
    /// outside the out dir (a hard link to a 0600 file), so it is not
    /// ours to read; a write replaces this name.
    HardLinked,
}

impl Found {
    fn of(kind: FileType) -> Found {
        match kind {
            FileType::Symlink => Found::Link,
            FileType::Directory => Found::Directory,
            FileType::RegularFile => Found::File,
            FileType::Fifo => Found::Fifo,
            FileType::Socket => Found::Socket,
            FileType::CharacterDevice | FileType::BlockDevice => Found::Device,
            FileType::Unknown => Found::Other,
        }
    }
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Found::Link => "a symbolic link",
            Found::Directory => "a directory",
            Found::File => "a file",
            Found::Fifo => "a fifo",
            Found::Socket => "a socket",
            Found::Device => "a device",
            Found::Other => "not a regular file",
            Found::HardLinked => "a file with other hard links",
        })
    }
}

/// The most of a file a check reads: far more than any unit, env file,
/// manifest or playbook we write.
pub const MAX_READ: u64 = 16 << 20;

/// What is at a file's name.
#[derive(Debug)]
pub enum Entry {
    Missing,
    /// A regular file: its bytes and permission bits.
    File {
        bytes: Vec<u8>,
        mode: u32,
    },
    /// A regular file larger than anything we write ([`MAX_READ`] bytes):
    /// not read (a planted sparse file of terabytes would fill memory).
    TooLarge {
        size: u64,
    },
    /// Something else, not opened.
    Other(Found),
}

/// A host's directory as opened (or why it could not be).
#[derive(Debug)]
pub enum HostDir {
    Missing,
    Open(OwnedFd),
    Not(Found),
}

/// An opened out dir. Files come grouped by host, so the last host's
/// directory is kept open beside it.
#[derive(Debug)]
pub struct Tree {
    root: PathBuf,
    fd: OwnedFd,
    last: RefCell<Option<(String, std::rc::Rc<HostDir>)>>,
}

pub(crate) fn io(e: rustix::io::Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e.raw_os_error())
}

fn cloexec(flags: OFlags) -> OFlags {
    flags | OFlags::CLOEXEC | OFlags::NOFOLLOW
}

/// `name` as a single path component (a file or host name never holds a
/// `/`; refusing one keeps every open inside its directory).
fn component(name: &str) -> std::io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(name)
}

/// What is at `name` in `dir`, not following a link (None: nothing).
pub fn kind_at(dir: impl AsFd, name: &str) -> std::io::Result<Option<Found>> {
    match rustix::fs::statat(dir, component(name)?, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(Found::of(FileType::from_raw_mode(stat.st_mode)))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// Read `name` in `dir` if it is a regular file; never follows a link or
/// opens anything else.
pub fn read_at(dir: impl AsFd, name: &str) -> std::io::Result<Entry> {
    let dir = dir.as_fd();
    match kind_at(dir, name)? {
        None => return Ok(Entry::Missing),
        Some(Found::File) => {}
        Some(other) => return Ok(Entry::Other(other)),
    }
    let flags = cloexec(OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY);
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Ok(Entry::Missing),
        Err(rustix::io::Errno::LOOP) => return Ok(Entry::Other(Found::Link)),
        Err(e) => return Err(io(e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(io)?;
    let found = Found::of(FileType::from_raw_mode(stat.st_mode));
    if found != Found::File {
        // Swapped between the look and the open.
        return Ok(Entry::Other(found));
    }
    if stat.st_nlink > 1 {
        return Ok(Entry::Other(Found::HardLinked));
    }
    let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
    if size > MAX_READ {
        return Ok(Entry::TooLarge { size });
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_READ + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_READ {
        // It grew between the look and the read.
        return Ok(Entry::TooLarge {
            size: bytes.len() as u64,
        });
    }
    Ok(Entry::File {
        bytes,
        mode: stat.st_mode & 0o7777,
    })
}

/// Open `name` in `dir` as a directory, not following a link.
pub fn open_dir_at(dir: impl AsFd, name: &str) -> std::io::Result<HostDir> {
    let dir = dir.as_fd();
    let flags = cloexec(OFlags::RDONLY | OFlags::DIRECTORY);
    match rustix::fs::openat(dir, component(name)?, flags, Mode::empty()) {
        Ok(fd) => Ok(HostDir::Open(fd)),
        Err(rustix::io::Errno::NOENT) => Ok(HostDir::Missing),
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => Ok(match kind_at(dir, name)? {
            None => HostDir::Missing,
            Some(found) => HostDir::Not(found),
        }),
        Err(e) => Err(io(e)),
    }
}

impl Tree {
    /// Open the out dir at `root` (following links: the out dir is the
    /// user's). None when it does not exist.
    pub fn open(root: &Path) -> std::io::Result<Option<Tree>> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        match rustix::fs::open(root, flags, Mode::empty()) {
            Ok(fd) => Ok(Some(Tree {
                root: root.to_path_buf(),
                fd,
                last: RefCell::new(None),
            })),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Where `host` (None: the out dir itself) is shown.
    pub fn shown(&self, host: Option<&str>) -> PathBuf {
        host.map_or_else(|| self.root.clone(), |h| self.root.join(h))
    }

    /// The directory of `host`, as opened (kept for the next call).
    pub fn host(&self, host: &str) -> std::io::Result<std::rc::Rc<HostDir>> {
        if let Some((name, dir)) = &*self.last.borrow()
            && name == host
        {
            return Ok(dir.clone());
        }
        let dir = std::rc::Rc::new(open_dir_at(&self.fd, host)?);
        *self.last.borrow_mut() = Some((host.to_string(), dir.clone()));
        Ok(dir)
    }

    /// Forget the kept host directory (it was just made or removed).
    pub fn forget(&self) {
        *self.last.borrow_mut() = None;
    }

    /// What is at `name` in `host`'s directory (None: in the out dir);
    /// `Err(Found)` when the host's directory is not a real one.
    pub fn read(&self, host: Option<&str>, name: &str) -> std::io::Result<Result<Entry, Found>> {
        let Some(host) = host else {
            return read_at(&self.fd, name).map(Ok);
        };
        match &*self.host(host)? {
            HostDir::Missing => Ok(Ok(Entry::Missing)),
            HostDir::Not(found) => Ok(Err(*found)),
            HostDir::Open(fd) => read_at(fd, name).map(Ok),
        }
    }

    /// What is at `name` in `host`'s directory (None: in the out dir), not
    /// followed (None: nothing, or no real directory for the host).
    pub fn kind(&self, host: Option<&str>, name: &str) -> std::io::Result<Option<Found>> {
        let Some(host) = host else {
            return kind_at(&self.fd, name);
        };
        match &*self.host(host)? {
            HostDir::Open(fd) => kind_at(fd, name),
            HostDir::Missing | HostDir::Not(_) => Ok(None),
        }
    }

    /// Make `host`'s directory if missing (0755, as mkdir with the usual
    /// umask); whether this call made it. A host "directory" that is not
    /// a real one is an error naming what it is.
    pub fn make_host(&self, host: &str) -> Result<bool, super::Error> {
        let shown = self.root.join(host);
        let create = |source| super::Error::Create {
            path: shown.clone(),
            source,
        };
        let made = match &*self.host(host).map_err(create)? {
            HostDir::Open(_) => false,
            HostDir::Not(found) => {
                return Err(super::Error::HostNotADirectory {
                    path: shown.clone(),
                    found: *found,
                });
            }
            HostDir::Missing => {
                rustix::fs::mkdirat(&self.fd, host, Mode::from_raw_mode(0o777))
                    .map_err(|e| create(io(e)))?;
                true
            }
        };
        self.forget();
        Ok(made)
    }

    /// Make every file system change so far durable.
    pub fn sync(&self) -> std::io::Result<()> {
        rustix::fs::syncfs(&self.fd).map_err(io)
    }
}

/// Create `name` in `dir` for writing: new (never an existing file or
/// a link), with `mode` (less the umask, as open does).
pub fn create_new_at(dir: impl AsFd, name: &str, mode: u32) -> std::io::Result<std::fs::File> {
    let flags = cloexec(OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL);
    rustix::fs::openat(dir, component(name)?, flags, Mode::from_raw_mode(mode))
        .map(std::fs::File::from)
        .map_err(io)
}

/// Remove the file `name` in `dir` (a missing one is no error).
pub fn remove_at(dir: impl AsFd, name: &str) -> std::io::Result<()> {
    match rustix::fs::unlinkat(dir, component(name)?, AtFlags::empty()) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// The names in the directory `dir` with the kind of each, not following
/// links (`.` and `..` left out).
pub fn list(dir: impl AsFd) -> std::io::Result<Vec<(String, Option<Found>)>> {
    let mut entries = rustix::fs::Dir::read_from(dir).map_err(io)?;
    let mut names = Vec::new();
    while let Some(entry) = entries.read() {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        let kind = match entry.file_type() {
            FileType::Unknown => None,
            kind => Some(Found::of(kind)),
        };
        names.push((name.to_string(), kind));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn nothing_below_the_out_dir_is_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "root:x:0:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        symlink(outside.path().join("secret"), dir.path().join("unit")).unwrap();
        symlink(outside.path(), dir.path().join("host")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, dir.path().join("fifo"), Mode::RUSR).unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/unit"), "ok").unwrap();
        let tree = Tree::open(dir.path()).unwrap().unwrap();
        let read = |host, name| tree.read(host, name).unwrap();
        assert!(matches!(read(None, "unit"), Ok(Entry::Other(Found::Link))));
        assert!(matches!(read(None, "fifo"), Ok(Entry::Other(Found::Fifo))));
        assert!(matches!(
            read(None, "real"),
            Ok(Entry::Other(Found::Directory))
        ));
        assert!(matches!(read(Some("host"), "secret"), Err(Found::Link)));
        assert!(matches!(read(Some("real"), "gone"), Ok(Entry::Missing)));
        match read(Some("real"), "unit") {
            Ok(Entry::File { bytes, .. }) => assert_eq!(bytes, b"ok"),
            other => panic!("{other:?}"),
        }
        let e = tree.make_host("host").unwrap_err().to_string();
        assert!(e.contains("it is a symbolic link, not a directory"), "{e}");
        assert!(tree.read(None, "../x").is_err());
    }

    #[test]
    fn a_planted_huge_file_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let huge = std::fs::File::create(dir.path().join("unit")).unwrap();
        huge.set_len(1 << 40).unwrap(); // sparse: a terabyte of nothing
        let tree = Tree::open(dir.path()).unwrap().unwrap();
        match tree.read(None, "unit").unwrap() {
            Ok(Entry::TooLarge { size }) => assert_eq!(size, 1 << 40),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_out_dir_itself_may_be_a_link() {
        let real = tempfile::tempdir().unwrap();
        std::fs::write(real.path().join("unit"), "ok").unwrap();
        let holder = tempfile::tempdir().unwrap();
        let link = holder.path().join("out");
        symlink(real.path(), &link).unwrap();
        let tree = Tree::open(&link).unwrap().unwrap();
        assert!(matches!(
            tree.read(None, "unit"),
            Ok(Ok(Entry::File { .. }))
        ));
        assert!(Tree::open(&holder.path().join("gone")).unwrap().is_none());
    }
}
