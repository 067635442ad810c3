//! Reading a job's `log_file:`: only a regular file inside the scenario file's directory
//! (after `..` and symbolic links are resolved), at most `MAX_BYTES`, never blocking (a
//! FIFO or a device is refused from its metadata, and the file is opened non-blocking).
//!
//! The scenario loader reports the `Err` text at the field's location; this module only
//! decides what may be read.

use std::io::Read;
use std::path::Path;

/// The largest log a scenario may name (64 MiB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

const ALLOWED: &str = "allowed: a regular file of at most 64 MiB inside the scenario file's \
                       directory, named relative to it";

/// Reads `name` (as written in the scenario) relative to `dir`, the scenario file's
/// directory. `dir` is `None` for scenarios given as text, which cannot name files.
pub fn read(dir: Option<&Path>, name: &str) -> Result<Vec<u8>, String> {
    let Some(dir) = dir else {
        return Err(format!(
            "log_file {name:?} cannot be read: this scenario was given as text, not as a file \
             (use log: instead)"
        ));
    };
    let base = std::fs::canonicalize(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .map_err(|e| {
        format!(
            "cannot resolve the scenario directory {}: {e}",
            dir.display()
        )
    })?;
    let wanted = base.join(name);
    let path = std::fs::canonicalize(&wanted)
        .map_err(|e| format!("cannot read log_file {name:?} ({}): {e}", wanted.display()))?;
    if !path.starts_with(&base) {
        return Err(format!(
            "log_file {name:?} resolves to {}, outside the scenario's directory {} ({ALLOWED})",
            path.display(),
            base.display()
        ));
    }
    let meta =
        std::fs::metadata(&path).map_err(|e| format!("cannot read log_file {name:?}: {e}"))?;
    check_kind(name, &meta)?;
    let mut file =
        open_nonblocking(&path).map_err(|e| format!("cannot read log_file {name:?}: {e}"))?;
    // The file may have been swapped since the first look: look again at what was opened.
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read log_file {name:?}: {e}"))?;
    check_kind(name, &meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read log_file {name:?}: {e}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_big(name, bytes.len() as u64));
    }
    Ok(bytes)
}

fn check_kind(name: &str, meta: &std::fs::Metadata) -> Result<(), String> {
    let ft = meta.file_type();
    if !ft.is_file() {
        let kind = if ft.is_dir() {
            "a directory".to_owned()
        } else {
            describe_special(&ft)
        };
        return Err(format!(
            "log_file {name:?} is {kind}, not a regular file ({ALLOWED})"
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(too_big(name, meta.len()));
    }
    Ok(())
}

fn too_big(name: &str, len: u64) -> String {
    format!("log_file {name:?} has {len} bytes, more than {MAX_BYTES} ({ALLOWED})")
}

#[cfg(unix)]
fn describe_special(ft: &std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
    .to_owned()
}

#[cfg(not(unix))]
fn describe_special(_: &std::fs::FileType) -> String {
    "not a file".to_owned()
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO that slipped in after the check must not wait for a writer.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const O_NONBLOCK: i32 = 0o4000;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const O_NONBLOCK: i32 = 0x0004;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}
