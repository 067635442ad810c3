//! Giving freed memory back to the operating system.
//!
//! A reset drops whole session worlds and journals at once: hundreds of megabytes after a
//! busy run. glibc's allocator keeps what is freed for reuse, in every thread's arena, so the
//! process's RSS would stay at its peak; `malloc_trim` returns the free pages. Other
//! allocators (musl, macOS) release on their own, and there it does nothing.

/// Returns the allocator's free pages to the OS, on a blocking thread when a tokio runtime
/// is running (trimming a large heap takes milliseconds), coalescing calls that arrive
/// while one is under way.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        static PENDING: AtomicBool = AtomicBool::new(false);
        if PENDING.swap(true, Ordering::AcqRel) {
            return;
        }
        let trim = || {
            // SAFETY: `malloc_trim` only walks glibc's own arenas under their locks; it takes
            // no pointer and is safe to call from any thread at any time.
            unsafe {
                libc::malloc_trim(0);
            }
            PENDING.store(false, Ordering::Release);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(trim)),
            Err(_) => trim(),
        }
    }
}
