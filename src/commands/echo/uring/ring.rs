//! The provided-buffer ring the kernel receives into, shared by one
//! engine's connections, and the memory behind it: the engine's unsafe
//! allocation and the ring's tail, published to the kernel.

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types;

use super::{BUFFERS, BUF_SIZE};

/// The provided-buffer ring: `BUFFERS` entries the kernel picks from, and
/// the memory they point at.
pub(super) struct Buffers {
    pub(super) entries: *mut types::BufRingEntry,
    layout: std::alloc::Layout,
    memory: Box<[u8]>,
    tail: u16,
    /// Buffers out of the ring, in connections' queues.
    pub(super) held: usize,
}

impl Buffers {
    pub(super) fn new() -> io::Result<Buffers> {
        let size = usize::from(BUFFERS) * std::mem::size_of::<types::BufRingEntry>();
        let layout = std::alloc::Layout::from_size_align(size, 4096)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a non-zero size; zeroed memory is a valid (empty) ring.
        let entries = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<types::BufRingEntry>();
        if entries.is_null() {
            return Err(io::Error::from_raw_os_error(libc::ENOMEM));
        }
        let memory = zeroed_bytes(usize::from(BUFFERS) * BUF_SIZE).inspect_err(|_| {
            // SAFETY: allocated just above with this layout, not yet shared.
            unsafe { std::alloc::dealloc(entries.cast(), layout) };
        })?;
        Ok(Buffers {
            entries,
            layout,
            memory,
            tail: 0,
            held: usize::from(BUFFERS),
        })
    }

    pub(super) fn address(&self, bid: u16) -> *const u8 {
        self.memory[usize::from(bid) * BUF_SIZE..].as_ptr()
    }

    /// The first `len` bytes of buffer `bid`.
    pub(super) fn bytes(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * BUF_SIZE;
        &self.memory[start..start + len]
    }

    /// Hand buffer `bid` back to the kernel.
    pub(super) fn give_back(&mut self, bid: u16) {
        let slot = usize::from(self.tail & (BUFFERS - 1));
        let addr = self.memory[usize::from(bid) * BUF_SIZE..].as_mut_ptr();
        // SAFETY: `slot` < BUFFERS entries allocated in `new`; the kernel
        // reads an entry only once the tail (published below) covers it.
        let entry = unsafe { &mut *self.entries.add(slot) };
        entry.set_addr(addr as u64);
        entry.set_len(BUF_SIZE as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: the tail field lives in the first entry, which we
        // allocated; the kernel reads it concurrently, hence the atomic.
        let tail = unsafe { &*types::BufRingEntry::tail(self.entries).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
        self.held -= 1;
    }
}

/// `len` zeroed bytes (pages resident only once written), or ENOMEM
/// instead of the abort of a failed `vec!` under a memory limit.
fn zeroed_bytes(len: usize) -> io::Result<Box<[u8]>> {
    let layout = std::alloc::Layout::array::<u8>(len)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: a non-zero size (the callers' constants).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(io::Error::from_raw_os_error(libc::ENOMEM));
    }
    // SAFETY: `len` initialised bytes from the global allocator with the
    // layout a `Box<[u8]>` of that length frees with.
    Ok(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) })
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the ring that used
        // it is gone (the engine drops its ring first) and nothing is in flight.
        unsafe { std::alloc::dealloc(self.entries.cast(), self.layout) };
    }
}
