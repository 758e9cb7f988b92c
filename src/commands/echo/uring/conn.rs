//! One connection of the io_uring engine as a state machine: what it has
//! queued, where its recv stands, and what it must do next. The decisions
//! live here, apart from the ring, so they can be tested without one; the
//! engine turns each [`Step`] into requests.

use std::collections::VecDeque;
use std::io;

use crate::net::activity::Activity;
use crate::progress;

/// Buffers a connection may hold before its recv is stopped.
pub(super) const MAX_HELD: usize = 4;

/// Where a connection's recv stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Recv {
    /// A multishot recv is in flight.
    Armed,
    /// It was cancelled; its last completion has not come yet.
    Cancelling,
    /// None in flight: stopped (queue full, or ending), or never armed.
    Off,
    /// None in flight: the buffer ring was empty; waits in `parked`.
    Parked,
    /// The client's FIN or an error: never again.
    Ended,
}

/// Bytes waiting to go back, and how much of them has gone.
pub(super) struct Out {
    pub(super) from: Source,
    pub(super) len: u32,
    pub(super) off: u32,
}

/// Where queued bytes are.
pub(super) enum Source {
    /// A buffer of the ring.
    Ring(u16),
    /// `--banner`.
    Banner,
    /// Bytes that came while the connection already held [`MAX_HELD`]
    /// buffers (before its recv stopped), copied out so the ring's buffer
    /// goes back at once: the ring is shared, this memory is the
    /// connection's own, and no client can take the ring's last buffers.
    Copied(Box<[u8]>),
}

/// One connection, indexed by its descriptor.
pub(super) struct Conn {
    pub(super) id: u64,
    /// Its books; no `--timeout` here, so the idle clock is never touched.
    pub(super) activity: Activity,
    pub(super) queue: VecDeque<Out>,
    /// Ring buffers in `queue`: at most [`MAX_HELD`].
    pub(super) ring_held: u8,
    pub(super) recv: Recv,
    /// The queue's head is being sent.
    pub(super) sending: bool,
    /// The client's FIN came.
    pub(super) eof: bool,
    /// Ends without echoing what is left: an error, or the second signal
    /// (`killed`: its `close` says so, with
    /// [`forced_close`](crate::net::listen::forced_close), and the bytes
    /// it moved count in the totals, as on the tokio path).
    pub(super) error: Option<io::Error>,
    pub(super) killed: bool,
}

/// What the recv must do next.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) enum RecvOp {
    #[default]
    Keep,
    Arm,
    Cancel,
}

/// How a connection is closed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Close {
    /// The client's FIN, all echoed: its `end` event, then the close.
    End,
    /// An error or the second signal.
    Ending,
}

/// What [`Conn::advance`] decided, in the order the engine does it: ring
/// buffers back to the ring, a send of the queue's head, the recv's
/// request, the close.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Step {
    pub(super) give_back: Vec<u16>,
    pub(super) send: bool,
    pub(super) recv: RecvOp,
    pub(super) close: Option<Close>,
}

/// What a send's completion asks of the engine.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Sent {
    /// The ring buffer that is now sent, to go back.
    pub(super) give_back: Option<u16>,
    /// Whether to [`Conn::advance`] (not when nothing was queued).
    pub(super) advance: bool,
}

impl Conn {
    /// A new connection; with `banner` (its length), the banner is queued first.
    pub(super) fn new(id: u64, banner: Option<u32>) -> Conn {
        let mut conn = Conn {
            id,
            activity: Activity::new(),
            queue: VecDeque::new(),
            ring_held: 0,
            recv: Recv::Off,
            sending: false,
            eof: false,
            error: None,
            killed: false,
        };
        if let Some(len) = banner {
            conn.queue.push_back(Out {
                from: Source::Banner,
                len,
                off: 0,
            });
        }
        conn
    }

    pub(super) fn ending(&self) -> bool {
        self.error.is_some() || self.killed
    }

    /// Keep the first error; the second signal's ending takes precedence.
    pub(super) fn fail(&mut self, e: io::Error) {
        if self.error.is_none() && !self.killed {
            self.error = Some(e);
        }
    }

    /// The send in flight completed with `res` (bytes, or -errno).
    pub(super) fn sent(&mut self, res: i32) -> Sent {
        self.sending = false;
        let Some(head) = self.queue.front_mut() else {
            return Sent {
                give_back: None,
                advance: false,
            };
        };
        let finished = if res <= 0 {
            self.fail(match res {
                0 => io::ErrorKind::WriteZero.into(),
                e => io::Error::from_raw_os_error(-e),
            });
            true
        } else {
            let n = res as u32;
            head.off += n;
            self.activity.count_written(n as usize);
            progress::server_sent(n as usize);
            head.off == head.len
        };
        let mut give_back = None;
        if finished {
            if let Some(Out {
                from: Source::Ring(bid),
                ..
            }) = self.queue.pop_front()
            {
                self.ring_held -= 1;
                give_back = Some(bid);
            }
        }
        Sent {
            give_back,
            advance: true,
        }
    }

    /// Move on after any change: send the next bytes, stop or re-arm the
    /// recv, or close once done. The recv's new state is set here; the
    /// engine issues the requests.
    pub(super) fn advance(&mut self) -> Step {
        let mut step = Step::default();
        if self.ending() {
            // What is queued will not be sent: back to the ring, all but
            // the buffer a send in flight still reads.
            let keep = usize::from(self.sending);
            for out in self.queue.drain(keep..) {
                if let Source::Ring(bid) = out.from {
                    self.ring_held -= 1;
                    step.give_back.push(bid);
                }
            }
            match self.recv {
                Recv::Armed => {
                    self.recv = Recv::Cancelling;
                    step.recv = RecvOp::Cancel;
                }
                Recv::Parked => self.recv = Recv::Off,
                _ => {}
            }
            if !self.sending && !matches!(self.recv, Recv::Armed | Recv::Cancelling) {
                step.close = Some(Close::Ending);
            }
            return step;
        }
        if !self.sending && !self.queue.is_empty() {
            self.sending = true;
            step.send = true;
        }
        let queued = self.queue.len();
        match self.recv {
            Recv::Armed if queued >= MAX_HELD => {
                self.recv = Recv::Cancelling;
                step.recv = RecvOp::Cancel;
            }
            Recv::Off if queued <= MAX_HELD / 2 => {
                self.recv = Recv::Armed;
                step.recv = RecvOp::Arm;
            }
            Recv::Ended if queued == 0 && !self.sending => step.close = Some(Close::End),
            _ => {}
        }
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(conn: &mut Conn, bid: u16, len: u32) {
        conn.ring_held += 1;
        conn.queue.push_back(Out {
            from: Source::Ring(bid),
            len,
            off: 0,
        });
    }

    #[test]
    fn a_new_connection_arms_its_recv() {
        let mut c = Conn::new(1, None);
        let step = c.advance();
        assert_eq!(step.recv, RecvOp::Arm);
        assert!(!step.send && step.close.is_none());
        assert_eq!(c.recv, Recv::Armed);
    }

    #[test]
    fn a_banner_is_sent_first_and_the_recv_armed_with_it() {
        let mut c = Conn::new(1, Some(5));
        let step = c.advance();
        assert!(step.send);
        assert_eq!(step.recv, RecvOp::Arm);
        assert!(c.sending);
        // A second look while the send is in flight sends nothing more.
        assert_eq!(c.advance(), Step::default());
    }

    #[test]
    fn a_full_queue_cancels_the_recv_and_a_drained_one_re_arms_it() {
        let mut c = Conn::new(1, None);
        c.advance();
        for bid in 0..MAX_HELD as u16 {
            ring(&mut c, bid, 10);
        }
        let step = c.advance();
        assert!(step.send);
        assert_eq!(step.recv, RecvOp::Cancel);
        assert_eq!(c.recv, Recv::Cancelling);
        // The recv's last completion comes: off until the queue drains.
        c.recv = Recv::Off;
        let mut given = Vec::new();
        while c.queue.len() > MAX_HELD / 2 {
            let sent = c.sent(10);
            assert!(sent.advance);
            given.extend(sent.give_back);
            let step = c.advance();
            assert_eq!(step.recv == RecvOp::Arm, c.queue.len() <= MAX_HELD / 2);
        }
        assert_eq!(given, [0, 1]);
        assert_eq!(c.recv, Recv::Armed);
    }

    #[test]
    fn a_partial_send_keeps_its_buffer_until_the_rest_goes() {
        let mut c = Conn::new(1, None);
        ring(&mut c, 3, 10);
        assert!(c.advance().send);
        assert_eq!(
            c.sent(4),
            Sent {
                give_back: None,
                advance: true
            }
        );
        assert_eq!(c.queue[0].off, 4);
        assert!(c.advance().send);
        assert_eq!(c.sent(6).give_back, Some(3));
        assert_eq!(c.activity.bytes_written(), 10);
        assert_eq!(c.ring_held, 0);
    }

    #[test]
    fn a_send_with_nothing_queued_asks_for_nothing() {
        let mut c = Conn::new(1, None);
        c.sending = true;
        let sent = c.sent(0);
        assert!(!sent.advance && sent.give_back.is_none());
        assert!(c.error.is_none());
    }

    #[test]
    fn the_clients_fin_closes_with_end_once_all_is_echoed() {
        let mut c = Conn::new(1, None);
        ring(&mut c, 0, 10);
        c.recv = Recv::Ended;
        c.eof = true;
        let step = c.advance();
        assert!(step.send);
        assert_eq!(step.close, None);
        c.sent(10);
        assert_eq!(c.advance().close, Some(Close::End));
    }

    #[test]
    fn a_failed_send_ends_the_connection_and_returns_its_buffers() {
        let mut c = Conn::new(1, None);
        c.advance();
        ring(&mut c, 0, 10);
        ring(&mut c, 1, 10);
        c.advance();
        let sent = c.sent(-libc::EPIPE);
        assert_eq!(sent.give_back, Some(0));
        assert_eq!(c.error.as_ref().unwrap().raw_os_error(), Some(libc::EPIPE));
        let step = c.advance();
        assert_eq!(step.give_back, [1]);
        assert_eq!(step.recv, RecvOp::Cancel);
        assert_eq!(step.close, None, "not while the recv is in flight");
        c.recv = Recv::Off;
        assert_eq!(c.advance().close, Some(Close::Ending));
    }

    #[test]
    fn ending_keeps_the_buffer_a_send_in_flight_reads() {
        let mut c = Conn::new(1, None);
        ring(&mut c, 0, 10);
        ring(&mut c, 1, 10);
        c.advance();
        c.recv = Recv::Parked;
        c.killed = true;
        let step = c.advance();
        assert_eq!(step.give_back, [1]);
        assert_eq!(step.close, None, "not while the send is in flight");
        assert_eq!(c.recv, Recv::Off);
        assert_eq!(c.sent(-libc::ECANCELED).give_back, Some(0));
        assert!(c.error.is_none(), "the second signal's ending comes first");
        assert_eq!(c.advance().close, Some(Close::Ending));
    }

    /// An idle connection costs its slot in the engine's table: its books
    /// and queue, no buffer (104 bytes on 64-bit Linux).
    #[test]
    fn connection_state_stays_small() {
        let size = std::mem::size_of::<Conn>();
        assert!(size <= 104, "a connection's state is {size} bytes");
    }

    #[test]
    fn the_first_error_is_kept() {
        let mut c = Conn::new(1, None);
        c.fail(io::Error::from_raw_os_error(libc::ECONNRESET));
        c.fail(io::Error::from_raw_os_error(libc::EPIPE));
        assert_eq!(c.error.unwrap().raw_os_error(), Some(libc::ECONNRESET));
    }
}
