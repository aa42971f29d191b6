//! The process allocator of `stoad` and the chain benchmark (mimalloc), and its tuning.

/// Set it with `#[global_allocator] static A: Allocator = Allocator;`. mimalloc rather than
/// glibc malloc: a block allocates many small, short-lived objects (docs/PERFORMANCE.md).
pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay` in mimalloc.h (the same index in its v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps memory the process freed instead of returning it to the OS. By default mimalloc
/// returns it after a second, so every block, a second or more after the last, faulted in
/// (and the kernel zeroed) again the pages of its tens of thousands of objects. A node's
/// memory thus stays at its peak. Call once at start, before the work begins.
pub fn keep_freed_memory() {
    // SAFETY: sets one integer option; mimalloc reads it when it next considers purging.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn freed_memory_is_kept() {
        let get = || {
            // SAFETY: reads one integer option.
            unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) }
        };
        // mimalloc v3's default purge delay (no other option defaults to 1000): the index is
        // the right one.
        assert_eq!(get(), 1000);
        super::keep_freed_memory();
        assert_eq!(get(), -1);
    }
}
