//! The plain echo loop on tokio: [`EchoAll`], a hand-written future that
//! reads into a buffer on the stack of `poll` and writes it straight back,
//! so an idle connection holds no buffer; on Linux, large reads switch it
//! to splice(2) through a pipe borrowed from the accept loop's pool.

use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::activity::Activity;
use crate::net::stream::Stream;
use crate::progress;

/// Bytes read per system call; on the stack, only while they are in hand.
const READ_SIZE: usize = 64 * 1024;

/// The echo loop as a hand-written future, so that the read buffer lives on
/// the stack of `poll` and never in the connection's state.
pub(super) struct EchoAll<'a> {
    pub(super) stream: &'a mut Stream,
    /// Bytes read that the socket would not take yet, and how many went since.
    pending: Vec<u8>,
    sent: usize,
    activity: &'a Activity,
    /// Only with `--timeout` is the idle clock touched: reading the clock
    /// twice a message costs more than the atomic counters.
    timed: bool,
    #[cfg(target_os = "linux")]
    splice: Splicing,
}

impl Future for EchoAll<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            // Bytes in hand go out before more are read: bounded memory.
            ready!(this.poll_flush(cx))?;
            #[cfg(target_os = "linux")]
            if this.splice.on {
                match ready!(this.poll_splice(cx))? {
                    Spliced::Echoed => continue,
                    Spliced::Fin => return Poll::Ready(Ok(())),
                    Spliced::Refused => {}
                }
            }
            let mut buf = [MaybeUninit::<u8>::uninit(); READ_SIZE];
            let mut rb = ReadBuf::uninit(&mut buf);
            ready!(Pin::new(&mut *this.stream).poll_read(cx, &mut rb))?;
            let data = rb.filled();
            if data.is_empty() {
                return Poll::Ready(this.fin_or_reset());
            }
            this.read(data.len());
            let mut done = 0;
            while done < data.len() {
                match Pin::new(&mut *this.stream).poll_write(cx, &data[done..]) {
                    Poll::Ready(Ok(n)) => done += this.wrote(n)?,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        this.pending = data[done..].to_vec();
                        return Poll::Pending;
                    }
                }
            }
        }
    }
}

impl<'a> EchoAll<'a> {
    /// Echo on `stream`, the banner (if any) first, counted in `activity`;
    /// `timed` (with `--timeout`): every byte moved restarts its idle clock.
    pub(super) fn new(
        stream: &'a mut Stream,
        activity: &'a Activity,
        banner: Option<&[u8]>,
        timed: bool,
    ) -> EchoAll<'a> {
        EchoAll {
            stream,
            pending: banner.map(<[u8]>::to_vec).unwrap_or_default(),
            sent: 0,
            activity,
            timed,
            #[cfg(target_os = "linux")]
            splice: Splicing::default(),
        }
    }

    /// Write what is in hand: bytes the socket did not take yet, and what
    /// sits in a borrowed pipe.
    pub(super) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(self.write(cx, self.sent))?;
            self.sent += n;
        }
        self.pending = Vec::new();
        self.sent = 0;
        #[cfg(target_os = "linux")]
        if self.splice.pipe.is_some() {
            ready!(self.poll_drain_pipe(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// A 0-byte read: the client's FIN, or a reset that a write took first
    /// (echo has not ended its side, so CLOSED can only be a reset).
    fn fin_or_reset(&self) -> io::Result<()> {
        if crate::sys::eof_was_reset(self.stream.raw_fd(), false) {
            return Err(io::Error::from_raw_os_error(crate::sys::errno::ECONNRESET));
        }
        Ok(())
    }

    /// Write pending bytes from `from` on.
    fn write(&mut self, cx: &mut Context<'_>, from: usize) -> Poll<io::Result<usize>> {
        let r = ready!(Pin::new(&mut *self.stream).poll_write(cx, &self.pending[from..]));
        Poll::Ready(r.and_then(|n| self.wrote(n)))
    }

    fn touch(&self) {
        if self.timed {
            self.activity.touch();
        }
    }

    /// `n` bytes came in (by read(2) or splice(2)).
    fn read(&mut self, n: usize) {
        self.touch();
        self.activity.count_read(n);
        progress::server_received(n);
        #[cfg(target_os = "linux")]
        self.splice.choose(n);
    }

    fn wrote(&self, n: usize) -> io::Result<usize> {
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.touch();
        self.activity.count_written(n);
        progress::server_sent(n);
        Ok(n)
    }
}

/// Reads at least this large switch a connection to splice(2), and
/// smaller ones back to read(2)/write(2): a small message costs the same
/// two calls either way, and splice's extra call to find the socket empty
/// would cost more than the copies it saves.
#[cfg(target_os = "linux")]
const SPLICE_MIN: usize = 8 * 1024;

/// echo's zero-copy path: socket → pipe → the same socket with splice(2),
/// the pipe borrowed from the loop's pool only while bytes sit in it.
#[cfg(target_os = "linux")]
#[derive(Default)]
struct Splicing {
    /// The last read was large: splice the next one.
    on: bool,
    /// splice(2) failed with EINVAL once (not a socket it supports).
    refused: bool,
    pipe: Option<crate::net::splice::Pipe>,
}

#[cfg(target_os = "linux")]
impl Splicing {
    fn choose(&mut self, n: usize) {
        self.on = n >= SPLICE_MIN && !self.refused;
    }
}

/// What one round of [`EchoAll::poll_splice`] did.
#[cfg(target_os = "linux")]
enum Spliced {
    /// Bytes went back; the connection may have switched to read(2).
    Echoed,
    /// The client's FIN.
    Fin,
    /// Nothing moved: splice(2) refused this socket (EINVAL, read(2) from
    /// now on) or no pipe could be had (read(2) this time).
    Refused,
}

#[cfg(target_os = "linux")]
impl EchoAll<'_> {
    /// Echo one splice(2) of bytes through a borrowed pipe. Unlike read(2)
    /// through tokio, a short splice does not prove the socket empty (the
    /// pipe may have run out of slots), so readiness is cleared only by the
    /// call that finds the socket empty, and the pipe goes back then.
    fn poll_splice(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Spliced>> {
        use crate::net::splice::Pipe;
        use tokio::io::Interest;
        let fd = self.stream.raw_fd();
        loop {
            if self.splice.pipe.is_some() {
                ready!(self.poll_drain_pipe(cx))?;
                return Poll::Ready(Ok(Spliced::Echoed));
            }
            ready!(self.stream.poll_ready(cx, Interest::READABLE))?;
            // Out of descriptors for a pipe (EMFILE): read(2) this time.
            let Ok(mut pipe) = Pipe::borrow() else {
                return Poll::Ready(Ok(Spliced::Refused));
            };
            match self
                .stream
                .try_io(Interest::READABLE, || pipe.fill(fd, READ_SIZE))
            {
                Ok(0) => return Poll::Ready(self.fin_or_reset().map(|()| Spliced::Fin)),
                Ok(n) => {
                    self.read(n);
                    self.splice.pipe = Some(pipe);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.raw_os_error() == Some(crate::sys::errno::EINVAL) => {
                    self.splice.refused = true;
                    self.splice.on = false;
                    return Poll::Ready(Ok(Spliced::Refused));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

#[cfg(target_os = "linux")]
impl EchoAll<'_> {
    /// Send what the borrowed pipe holds; then it goes back to the pool, so
    /// a waiting connection holds none.
    fn poll_drain_pipe(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        use tokio::io::Interest;
        let fd = self.stream.raw_fd();
        while let Some(pipe) = self.splice.pipe.as_mut().filter(|p| p.held() > 0) {
            ready!(self.stream.poll_ready(cx, Interest::WRITABLE))?;
            match self.stream.try_io(Interest::WRITABLE, || pipe.drain(fd)) {
                Ok(n) => self.wrote(n)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            };
        }
        self.splice.pipe = None;
        Poll::Ready(Ok(()))
    }
}
