//! When a function's bytes reached the kernel, rather than when the harness
//! got round to reading them.
//!
//! A function's init ends when it sends its first `/next`. The harness is a
//! process of its own on a 2-core machine that also runs moto, so between the
//! kernel receiving that request and the harness's task reading it there is a
//! wake-up, which waits for a free core when the function has just sent moto
//! a request (the signing key) and both cores are busy. That wait is the
//! harness's, not the function's (0.03–0.09 ms at the median, in session
//! 11's runs). Loopback delivers a send within the sending call, and with
//! `SO_TIMESTAMPNS` the kernel stamps each segment as it arrives, so the
//! stamp of the bytes a request came in is when the function sent it.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Turns on receive timestamps for the connections `listener` accepts
/// (they inherit the option), once stamping is live machine-wide.
pub fn stamp_arrivals(listener: &TcpListener) -> io::Result<()> {
    stamping_live()?;
    ask_for_stamps(listener.as_raw_fd())
}

fn ask_for_stamps(fd: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket, and an option value of the size given.
    let set = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// The kernel stamps arriving packets only while some socket asks for
/// stamps, and it switches that on in deferred work, after the
/// `setsockopt` has returned; when the last such socket closes it switches
/// it off again. A listener per cold start would leave the first bytes of
/// some starts unstamped (a test that sent right after asking failed two
/// runs in three). So the process holds one socket that asks, for its
/// whole life, and waits until a datagram it sends itself comes back
/// stamped.
fn stamping_live() -> io::Result<()> {
    static HOLDER: OnceLock<Result<UdpSocket, String>> = OnceLock::new();
    let holder = HOLDER.get_or_init(|| {
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        ask_for_stamps(socket.as_raw_fd()).map_err(|e| e.to_string())?;
        socket.connect(socket.local_addr().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 1];
        while Instant::now() < deadline {
            socket.send(b"x").map_err(|e| e.to_string())?;
            std::thread::sleep(Duration::from_millis(1));
            match receive(socket.as_raw_fd(), &mut buf) {
                Ok((_, Some(_))) => return Ok(socket),
                Ok((_, None)) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("the kernel did not start stamping received packets within 2 s".into())
    });
    holder.as_ref().map(|_| ()).map_err(|e| io::Error::other(e.clone()))
}

/// A connection that remembers the kernel's stamp of the last bytes read.
pub struct Stamped {
    stream: TcpStream,
    last: Arc<Mutex<Option<SystemTime>>>,
}

impl Stamped {
    pub fn new(stream: TcpStream) -> Self {
        Self { stream, last: Arc::new(Mutex::new(None)) }
    }

    /// Reads the stamp of the latest read; a request's head is read whole
    /// before hyper hands it to the service, so in the service this is when
    /// the request arrived.
    pub fn arrivals(&self) -> Arrivals {
        Arrivals(self.last.clone())
    }
}

/// The latest stamp of one connection, for its service.
#[derive(Clone)]
pub struct Arrivals(Arc<Mutex<Option<SystemTime>>>);

impl Arrivals {
    /// When the kernel received the latest bytes, as an `Instant`; `noticed`
    /// (now) when there is no stamp.
    pub fn latest(&self, noticed: Instant) -> Instant {
        let Some(stamp) = *self.0.lock().unwrap() else { return noticed };
        match SystemTime::now().duration_since(stamp) {
            Ok(ago) => noticed.checked_sub(ago).unwrap_or(noticed),
            Err(_) => noticed,
        }
    }
}

/// `recvmsg` into `buf`, with the `SCM_TIMESTAMPNS` of the data if there is one.
fn receive(fd: libc::c_int, buf: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
    // Room for one timespec control message, aligned as cmsghdr needs.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: msghdr is plain data; the pointers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: fd is an open socket and msg describes live buffers.
    let read = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if read < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: the CMSG_* walk stays inside msg_control as the kernel filled it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                stamp = Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((read as usize, stamp))
}

impl AsyncRead for Stamped {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.stream.poll_read_ready(cx))?;
            let fd = this.stream.as_raw_fd();
            let unfilled = buf.initialize_unfilled();
            match this.stream.try_io(Interest::READABLE, || receive(fd, unfilled)) {
                Ok((read, stamp)) => {
                    if stamp.is_some() {
                        *this.last.lock().unwrap() = stamp;
                    }
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// The stamp is when the bytes were sent, however late they are read.
    #[tokio::test]
    async fn a_late_read_still_dates_the_bytes_to_their_arrival() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        stamp_arrivals(&listener).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut server = Stamped::new(server);
        let arrivals = server.arrivals();

        let sent = Instant::now();
        client.write_all(b"GET /next").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut got = [0u8; 9];
        server.read_exact(&mut got).await.unwrap();
        let read = Instant::now();

        assert_eq!(&got, b"GET /next");
        let arrived = arrivals.latest(read);
        assert!(arrived >= sent.checked_sub(Duration::from_millis(2)).unwrap(), "stamped before it was sent");
        assert!(read.duration_since(arrived) >= Duration::from_millis(45), "stamped when read, not when sent");
    }
}
