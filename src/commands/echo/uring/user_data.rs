//! The io_uring engine's user data: each request carries what it is for
//! and the connection it belongs to, so a completion finds its way back.

use std::os::fd::RawFd;

/// What a completion is for: the kind in the top byte of its user data,
/// the connection's descriptor (or none) in the low 32 bits.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Op {
    Accept = 1,
    Recv,
    Send,
    /// Closes, cancellations: nothing to do when they complete.
    Quiet,
    Signal,
    Backoff,
    /// The cancellation of a connection's recv, which may have to be retried.
    CancelRecv,
}

pub(super) fn user_data(op: Op, fd: RawFd) -> u64 {
    (op as u64) << 56 | u64::from(fd as u32)
}

pub(super) fn op_of(data: u64) -> (Op, RawFd) {
    let op = match data >> 56 {
        1 => Op::Accept,
        2 => Op::Recv,
        3 => Op::Send,
        5 => Op::Signal,
        6 => Op::Backoff,
        7 => Op::CancelRecv,
        _ => Op::Quiet,
    };
    (op, data as u32 as RawFd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_and_descriptor_round_trips() {
        let ops = [
            Op::Accept,
            Op::Recv,
            Op::Send,
            Op::Quiet,
            Op::Signal,
            Op::Backoff,
            Op::CancelRecv,
        ];
        for op in ops {
            for fd in [-1, 0, 1, 7, 65_535, RawFd::MAX] {
                assert_eq!(op_of(user_data(op, fd)), (op, fd), "{op:?} {fd}");
            }
        }
    }

    #[test]
    fn unknown_kinds_are_quiet() {
        assert_eq!(op_of(0), (Op::Quiet, 0));
        assert_eq!(op_of(9 << 56 | 3), (Op::Quiet, 3));
    }
}
