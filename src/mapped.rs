//! Memory-mapped input files, and the guard that turns the one way a mapping can kill the process
//! (SIGBUS: the file shrank under it, as copytruncate log rotation does) into a clear error. Only
//! on Unix, where that guard can be installed; elsewhere files are read, never mapped.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::Result;

// Never built where files are not mapped.
#[cfg_attr(not(unix), allow(dead_code))]
pub struct Mapped {
    map: Mmap,
}

impl Mapped {
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }
}

#[cfg(unix)]
mod unix {
    use std::ffi::CString;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::Once;

    use memmap2::{Advice, MmapOptions};

    use super::*;
    use crate::error::Error;

    /// The message the SIGBUS handler prints: set before each file is mapped, leaked on purpose so
    /// the handler can always read it.
    static SIGBUS_MESSAGE: AtomicPtr<CString> = AtomicPtr::new(std::ptr::null_mut());

    impl Mapped {
        /// Maps the first `len` bytes of `file` (its size at open).
        pub fn new(file: &File, len: u64, path: &Path) -> Result<Mapped> {
            let len = usize::try_from(len)
                .map_err(|_| Error::io(path, std::io::Error::other("file too large to map")))?;
            guard_sigbus(path);
            // SAFETY: Rust requires that the bytes behind a `&[u8]` do not change while it lives,
            // and no mapping of a file can promise that: another process may write to or shrink
            // the file at any time. The caller accepts that risk, as ripgrep does, for speed: the
            // mapping is read-only and private, the scanner treats every byte as untrusted input
            // (a changed byte only changes what is read, never memory safety of the scanner's own
            // data structures), and a shrink, which raises SIGBUS on access, is turned by
            // `guard_sigbus` into a one-line error and exit code 2. `--no-mmap` avoids the risk.
            let map =
                unsafe { MmapOptions::new().len(len).map(file) }.map_err(|e| Error::io(path, e))?;
            // Only a hint to read ahead; scanning is correct without it.
            let _ = map.advise(Advice::Sequential);
            Ok(Mapped { map })
        }
    }

    fn guard_sigbus(path: &Path) {
        let text = format!(
            "backfill-triage: {}: the file shrank while it was being read (truncated or rotated); \
             no manifest was written. Scan a stable copy, or use --no-mmap\n",
            path.display()
        );
        let message = Box::into_raw(Box::new(
            CString::new(text.replace('\0', "?")).expect("no NUL left"),
        ));
        SIGBUS_MESSAGE.store(message, Ordering::SeqCst);
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            // SAFETY: `on_sigbus` only calls async-signal-safe functions (write, _exit) and reads
            // a pointer that is never freed; the sigaction struct is fully initialised before use.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
            }
        });
    }

    extern "C" fn on_sigbus(_: libc::c_int) {
        let message = SIGBUS_MESSAGE.load(Ordering::SeqCst);
        // SAFETY: the pointer is null or a leaked, never-freed CString; write and _exit are
        // async-signal-safe.
        unsafe {
            if !message.is_null() {
                let bytes = (*message).as_bytes();
                libc::write(2, bytes.as_ptr().cast(), bytes.len());
            }
            libc::_exit(2);
        }
    }
}

#[cfg(not(unix))]
impl Mapped {
    /// Without a SIGBUS guard a file that shrinks under its mapping would kill the process without
    /// a word: the scanner reads such files instead.
    pub fn new(_file: &File, _len: u64, path: &Path) -> Result<Mapped> {
        Err(crate::error::Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::Unsupported, "not mapped here"),
        ))
    }
}
