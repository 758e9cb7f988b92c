//! The engine's requests and their completions: accepting, each
//! connection's recv and send as its [`Conn`] state machine decides them,
//! closing, and the shutdown levels seen through the eventfd.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use io_uring::{cqueue, opcode, types};
use serde_json::json;

use super::conn::{Close, Conn, Out, Recv, RecvOp, Source, MAX_HELD};
use super::user_data::{op_of, user_data, Op};
use super::{Engine, BUFFERS, GROUP};
use crate::events;
use crate::net::activity::Ending;
use crate::net::listen::{accept_backoff, forced_close, register, unregister};
use crate::net::options;
use crate::net::stream::Addresses;
use crate::progress;

impl Engine<'_> {
    /// A completion, to the code that waits for it.
    pub(super) fn complete(&mut self, data: u64, res: i32, flags: u32) {
        match op_of(data) {
            (Op::Accept, _) => self.accepted(res, flags),
            (Op::Recv, fd) => self.received(fd, res, flags),
            (Op::Send, fd) => self.sent(fd, res),
            (Op::Signal, _) => self.signalled(res),
            (Op::Backoff, _) => {
                self.waiting = false;
                if self.level == 0 {
                    self.arm_accept();
                }
                self.maybe_stopped();
            }
            (Op::CancelRecv, fd) => self.cancel_done(fd, res),
            (Op::Quiet, _) => {}
        }
    }

    pub(super) fn arm_accept(&mut self) {
        let Some(l) = &self.listener else { return };
        let entry = opcode::AcceptMulti::new(types::Fd(l.as_raw_fd()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(Op::Accept, -1));
        self.push(entry);
        self.accepting = true;
    }

    pub(super) fn arm_signal(&mut self) {
        let buf: *mut u64 = &mut *self.signal_buf;
        // SAFETY (for the push): `signal_buf` is boxed in the engine, which
        // waits for this read's completion before returning.
        let entry = opcode::Read::new(types::Fd(self.signal.as_raw_fd()), buf.cast(), 8)
            .build()
            .user_data(user_data(Op::Signal, -1));
        self.push(entry);
        self.signal_armed = true;
    }

    fn accepted(&mut self, res: i32, flags: u32) {
        if !cqueue::more(flags) {
            self.accepting = false;
        }
        if res >= 0 {
            self.backoff = Duration::from_millis(10);
            // SAFETY: the descriptor accept(2) just gave us.
            let sock = unsafe { OwnedFd::from_raw_fd(res) };
            self.start(sock);
        } else if res != -libc::ECANCELED {
            let e = io::Error::from_raw_os_error(-res);
            let wait = accept_backoff(&e, &mut self.backoff);
            if let (Some(wait), false, 0) = (wait, self.accepting, self.level) {
                *self.timespec = types::Timespec::from(wait);
                // SAFETY (for the push): the timespec is boxed in the
                // engine, which waits for this timer before returning.
                let entry = opcode::Timeout::new(&*self.timespec)
                    .build()
                    .user_data(user_data(Op::Backoff, -1));
                self.push(entry);
                self.waiting = true;
            }
        }
        if !self.accepting && !self.waiting && self.level == 0 {
            self.arm_accept();
        }
        self.maybe_stopped();
    }

    /// A new connection: the shared admission and books, then its recv.
    fn start(&mut self, sock: OwnedFd) {
        if self.tcp {
            if let Err(e) = self.opts.socket.apply(socket2::SockRef::from(&sock)) {
                let _ = accept_backoff(&e, &mut self.backoff);
                return;
            }
        }
        let addrs = if self.opts.needs_addresses() {
            Addresses::of(socket2::SockRef::from(&sock))
        } else {
            Addresses::unknown()
        };
        let Some(id) = register(self.opts, self.totals, &addrs) else {
            return;
        };
        if self.setup.reset {
            let _ = options::arm_reset(socket2::SockRef::from(&sock));
        }
        let fd = sock.into_raw_fd();
        let index = fd as usize;
        if self.conns.len() <= index {
            self.conns.resize_with(index + 1, || None);
        }
        let banner = self.setup.banner.as_ref().map(|b| b.len() as u32);
        let conn = Conn::new(id, banner);
        self.conns[index] = Some(conn);
        self.open += 1;
        self.advance(fd);
    }

    fn conn(&mut self, fd: RawFd) -> Option<&mut Conn> {
        self.conns.get_mut(fd as usize).and_then(Option::as_mut)
    }

    fn received(&mut self, fd: RawFd, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let Some(conn) = self.conns.get_mut(fd as usize).and_then(Option::as_mut) else {
            return;
        };
        if !more {
            conn.recv = Recv::Off;
        }
        match res {
            n if n > 0 => {
                let bid = bid.expect("a recv with data names its buffer");
                self.bufs.held += 1;
                let n = n as usize;
                conn.activity.count_read(n);
                progress::server_received(n);
                let from = if conn.ending() {
                    None
                } else if usize::from(conn.ring_held) < MAX_HELD {
                    conn.ring_held += 1;
                    Some(Source::Ring(bid))
                } else {
                    Some(Source::Copied(self.bufs.bytes(bid, n).into()))
                };
                if !matches!(from, Some(Source::Ring(_))) {
                    self.bufs.give_back(bid);
                }
                if let Some(from) = from {
                    conn.queue.push_back(Out {
                        from,
                        len: n as u32,
                        off: 0,
                    });
                }
            }
            0 => {
                // A reset that a send took first reads as 0 too.
                if conn.error.is_none() && !conn.killed && crate::sys::eof_was_reset(fd, false) {
                    conn.error = Some(io::Error::from_raw_os_error(libc::ECONNRESET));
                }
                conn.eof = true;
                conn.recv = Recv::Ended;
            }
            // Parked only if it may read now (else it waits for its queue).
            e if e == -libc::ENOBUFS => {
                if !conn.ending() && conn.queue.len() <= MAX_HELD / 2 {
                    conn.recv = Recv::Parked;
                    let id = conn.id;
                    self.parked.push((fd, id));
                }
            }
            e if e == -libc::ECANCELED => {}
            e => {
                conn.fail(io::Error::from_raw_os_error(-e));
                conn.recv = Recv::Ended;
            }
        }
        if res <= 0 {
            if let Some(bid) = bid {
                self.bufs.held += 1;
                self.bufs.give_back(bid);
            }
        }
        self.advance(fd);
    }

    fn sent(&mut self, fd: RawFd, res: i32) {
        let Some(conn) = self.conn(fd) else {
            return;
        };
        let sent = conn.sent(res);
        if let Some(bid) = sent.give_back {
            self.bufs.give_back(bid);
        }
        if sent.advance {
            self.advance(fd);
        }
    }

    /// Move connection `fd` on after any change: send the next bytes,
    /// stop or re-arm its recv, or close it once it is done.
    fn advance(&mut self, fd: RawFd) {
        let Some(conn) = self.conn(fd) else {
            return;
        };
        let step = conn.advance();
        for bid in step.give_back {
            self.bufs.give_back(bid);
        }
        if step.send {
            self.send_head(fd);
        }
        match step.recv {
            RecvOp::Arm => self.arm_recv(fd),
            RecvOp::Cancel => self.cancel_recv(fd),
            RecvOp::Keep => {}
        }
        match step.close {
            Some(Close::End) => {
                let id = self.conns[fd as usize].as_ref().expect("still here").id;
                events::emit("end", Some(id), json!({}));
                self.close(fd);
            }
            Some(Close::Ending) => self.close(fd),
            None => {}
        }
    }

    /// Send the queue's head, which [`Conn::advance`] marked as sending.
    fn send_head(&mut self, fd: RawFd) {
        let conn = self.conns[fd as usize].as_ref().expect("still here");
        let head = conn.queue.front().expect("a head to send");
        let ptr = match &head.from {
            Source::Ring(bid) => self.bufs.address(*bid),
            Source::Banner => self.setup.banner.as_ref().expect("queued").as_ptr(),
            Source::Copied(bytes) => bytes.as_ptr(),
        };
        // SAFETY (for the push): the buffer stays out of the ring
        // (the banner, the copy alive) until this send completes.
        let entry = opcode::Send::new(
            types::Fd(fd),
            ptr.wrapping_add(head.off as usize),
            head.len - head.off,
        )
        .flags(libc::MSG_NOSIGNAL)
        .build()
        .user_data(user_data(Op::Send, fd));
        self.push(entry);
    }

    fn arm_recv(&mut self, fd: RawFd) {
        let entry = opcode::RecvMulti::new(types::Fd(fd), GROUP)
            .build()
            .user_data(user_data(Op::Recv, fd));
        self.push(entry);
        if let Some(conn) = self.conn(fd) {
            conn.recv = Recv::Armed;
        }
    }

    fn cancel_recv(&mut self, fd: RawFd) {
        self.push(
            opcode::AsyncCancel::new(user_data(Op::Recv, fd))
                .build()
                .user_data(user_data(Op::CancelRecv, fd)),
        );
        if let Some(conn) = self.conn(fd) {
            conn.recv = Recv::Cancelling;
        }
    }

    /// A recv that was completing when its cancellation came (EALREADY:
    /// bytes had just arrived) stays armed, multishot: cancel it again, or
    /// a client that does not read would take every buffer.
    fn cancel_done(&mut self, fd: RawFd, res: i32) {
        let again =
            res == -libc::EALREADY && self.conn(fd).is_some_and(|c| c.recv == Recv::Cancelling);
        if again {
            self.cancel_recv(fd);
        }
    }

    /// Nothing references the socket any more: close it, report, forget it.
    fn close(&mut self, fd: RawFd) {
        let conn = self.conns[fd as usize].take().expect("open");
        self.push(
            opcode::Close::new(types::Fd(fd))
                .build()
                .user_data(user_data(Op::Quiet, fd)),
        );
        self.open -= 1;
        if events::enabled() {
            let ending = match conn.error {
                Some(e) => Ending::Error(e),
                None if conn.killed => Ending::Error(forced_close()),
                None => Ending::Done,
            };
            conn.activity.report_close(Some(conn.id), &ending);
        }
        let a = &conn.activity;
        self.totals.add_bytes(a.bytes_read(), a.bytes_written());
        unregister(self.totals);
    }

    /// Re-arm parked connections once the ring has buffers again. All of
    /// them: one whose client has gone quiet would otherwise sit on the
    /// wake-up the others wait for; those that find it empty again park
    /// again until the next buffer comes back (never in a loop of their own).
    pub(super) fn unpark(&mut self) {
        if self.parked.is_empty() || self.bufs.held >= usize::from(BUFFERS) {
            return;
        }
        for (fd, id) in std::mem::take(&mut self.parked) {
            let waiting = self
                .conn(fd)
                .is_some_and(|c| c.id == id && c.recv == Recv::Parked);
            if waiting {
                self.arm_recv(fd);
            }
        }
    }

    fn signalled(&mut self, res: i32) {
        self.signal_armed = false;
        if res == 8 {
            self.level = (self.level + *self.signal_buf).min(2);
        }
        if res == -libc::ECANCELED {
            return;
        }
        if self.level < 2 {
            self.arm_signal();
        }
        if self.level >= 1 {
            self.stop_accepting();
        }
        if self.level >= 2 {
            self.end_all();
        }
    }

    /// The first signal: no more connections.
    fn stop_accepting(&mut self) {
        if self.accepting {
            self.push(
                opcode::AsyncCancel::new(user_data(Op::Accept, -1))
                    .build()
                    .user_data(user_data(Op::Quiet, -1)),
            );
        }
        if self.waiting {
            self.push(
                opcode::TimeoutRemove::new(user_data(Op::Backoff, -1))
                    .build()
                    .user_data(user_data(Op::Quiet, -1)),
            );
        }
        self.maybe_stopped();
    }

    /// Once no accept is in flight or waiting, close the listening socket
    /// and say so (the Unix socket file goes once every loop has).
    fn maybe_stopped(&mut self) {
        if self.level == 0 || self.accepting || self.waiting {
            return;
        }
        self.listener = None;
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.send(());
        }
    }

    /// The second signal: end every connection now.
    fn end_all(&mut self) {
        let open: Vec<RawFd> = (0..self.conns.len())
            .filter(|&i| self.conns[i].is_some())
            .map(|i| i as RawFd)
            .collect();
        for fd in open {
            let conn = self.conns[fd as usize].as_mut().expect("open");
            if conn.killed {
                continue;
            }
            conn.killed = true;
            if conn.sending {
                self.push(
                    opcode::AsyncCancel::new(user_data(Op::Send, fd))
                        .build()
                        .user_data(user_data(Op::Quiet, fd)),
                );
            }
            self.advance(fd);
        }
    }
}
