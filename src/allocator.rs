//! The process's allocator, tuned for running many worlds: glibc returns large freed blocks to
//! the kernel (`munmap`, heap trimming) and maps them again for the next world, and on the model
//! engine's ten-day world that round trip was about a third of the run (124 µs against 88 µs with
//! the memory kept; `benches/core.rs`). [`keep_memory`] keeps it: blocks up to 32 MiB come from
//! the heap, and the heap is trimmed only past 256 MiB free. The `hooksim` binary calls it first;
//! a program embedding hooksim may, once, before its threads start.

/// Blocks at or above this many bytes are mapped on their own (glibc's default is 128 KiB).
pub const MMAP_THRESHOLD_BYTES: i32 = 32 << 20;

/// Free heap above this many bytes is given back to the kernel (glibc's default is 128 KiB).
pub const TRIM_THRESHOLD_BYTES: i32 = 256 << 20;

/// Sets glibc's mmap and trim thresholds ([`MMAP_THRESHOLD_BYTES`], [`TRIM_THRESHOLD_BYTES`]).
/// Does nothing on other C libraries (musl, as in the container image, keeps its own policy).
pub fn keep_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before other threads allocate.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES);
    }
}
