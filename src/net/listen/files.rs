//! A server's Unix socket file, created with the mode asked for and
//! removed only while it is still ours: nothing already at (or swapped
//! into) its path is chmod-ed or removed, no symlink is followed, no file
//! replaced that bind(2) did not create. (The ready file is `ready`'s.)

use std::io;
use std::path::{Path, PathBuf};

use super::ServerOptions;

/// A Unix socket file this server created: removed when dropped, which is
/// also what happens on SIGINT/SIGTERM/SIGHUP once the accept loops have
/// stopped; but only if the path still names the socket bind(2) made
/// (same device and inode), never a file that has taken its place since.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketFile {
    /// The socket file just bound at `path`; `None` if something else is
    /// already there (then it is not ours to remove).
    pub(super) fn bound(path: &Path) -> Option<SocketFile> {
        let id = socket_file_id(path)?;
        Some(SocketFile {
            path: path.to_path_buf(),
            id,
        })
    }
}

/// Device and inode of the socket file at `path` (not following a symlink).
fn socket_file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.file_type()
        .is_socket()
        .then(|| (meta.dev(), meta.ino()))
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if socket_file_id(&self.path) == Some(self.id) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Bind `path`, its file created with the mode `--readable-all` and
/// `--writable-all` ask for (Node's `readableAll`/`writableAll`: the
/// usual mode plus read or write for everyone). The mode is set by
/// bind(2) itself, under a narrower umask, not by a chmod afterwards: a
/// chmod of the path would follow a symlink swapped in after the bind and
/// change the mode of whatever it points at.
pub(super) fn bind_unix_with_mode(
    path: &Path,
    opts: &ServerOptions,
) -> io::Result<std::os::unix::net::UnixListener> {
    let open =
        if opts.readable_all { 0o444 } else { 0 } | if opts.writable_all { 0o222 } else { 0 };
    if open == 0 {
        return std::os::unix::net::UnixListener::bind(path);
    }
    // The umask is the process's: for the length of the bind, another
    // thread creating a file would get these bits too. None does: servers
    // bind before they start any thread that writes files.
    let umask = crate::sys::umask(0o077);
    crate::sys::umask(umask & !open);
    let bound = std::os::unix::net::UnixListener::bind(path);
    crate::sys::umask(umask);
    bound
}
