//! Request targets as clients really send them. `curl 'http://broker/ngsi-ld/v1/entities?q=speed>50'`
//! and `q=name=="Eiffel Tower"` put `>`, `"`, spaces and UTF-8 into the request line unencoded;
//! GS CIM 009 accepts such characters in queries (CR 169r1, "allow forbidden characters", in
//! v1.7.7), but the HTTP/1 parser under actix-web rejects them with an empty 400 before any
//! route runs. [`LenientTarget`] wraps each connection and percent-encodes, in the request
//! target only, the bytes RFC 3986 does not allow raw (space, `"`, `<`, `>`, `\`, `^`, `` ` ``,
//! `{`, `|`, `}` and non-ASCII), so the parser sees the same request, written as RFC 3986 wants.
//! Percent-decoding gives back exactly what the client wrote.
//!
//! To find the request line of every request on a kept-alive connection it follows HTTP/1.1
//! message framing (RFC 9112 6): headers up to the empty line, then a body of Content-Length
//! bytes or a chunked body. Anything it does not understand turns it into a pass-through for
//! the rest of the connection, which then behaves exactly as without it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A line (request line, header, chunk size) longer than this is passed through unexamined, and
/// the rest of the connection with it; the HTTP parser applies its own limits to it.
const MAX_LINE: usize = 64 * 1024;

/// Where the rewriter is in the byte stream of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a request line (leading empty lines pass through).
    RequestLine,
    /// Collecting header lines; the body framing found so far.
    Headers { length: Option<u64>, chunked: bool },
    /// Passing `remaining` bytes of a Content-Length body.
    Body { remaining: u64 },
    /// Collecting a chunk-size line.
    ChunkSize,
    /// Passing `remaining` bytes of chunk data, then its CRLF (`+ 2`).
    ChunkData { remaining: u64 },
    /// Collecting trailer lines after the last chunk.
    Trailers,
    /// Not following the framing any more: every byte passes as it is.
    PassThrough,
}

/// The byte-stream rewriter: input from the client in, input for the HTTP parser out.
#[derive(Debug)]
pub struct TargetRewriter {
    state: State,
    line: Vec<u8>,
}

impl Default for TargetRewriter {
    fn default() -> Self {
        Self {
            state: State::RequestLine,
            line: Vec::new(),
        }
    }
}

impl TargetRewriter {
    /// Feeds bytes read from the client; appends what the parser is to read to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::PassThrough => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body { remaining } | State::ChunkData { remaining } => {
                    let n = input
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    let left = remaining - n as u64;
                    self.state = match self.state {
                        State::Body { .. } if left == 0 => State::RequestLine,
                        State::Body { .. } => State::Body { remaining: left },
                        _ if left == 0 => State::ChunkSize,
                        _ => State::ChunkData { remaining: left },
                    };
                }
                _ => {
                    let Some(end) = input.iter().position(|&b| b == b'\n') else {
                        self.line.extend_from_slice(input);
                        if self.line.len() > MAX_LINE {
                            self.give_up(out);
                        }
                        return;
                    };
                    self.line.extend_from_slice(&input[..=end]);
                    input = &input[end + 1..];
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out);
                }
            }
        }
    }

    /// Stops following the framing: what was collected, and all that follows, passes as is.
    fn give_up(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.line);
        self.state = State::PassThrough;
    }

    /// One complete line (with its LF) in the current state.
    fn line_done(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let text = trim_eol(line);
        match self.state {
            State::RequestLine if text.is_empty() => out.extend_from_slice(line),
            State::RequestLine => {
                out.extend_from_slice(&rewrite_request_line(line));
                self.state = State::Headers {
                    length: None,
                    chunked: false,
                };
            }
            State::Headers { length, chunked } if text.is_empty() => {
                out.extend_from_slice(line);
                self.state = match (chunked, length) {
                    (true, _) => State::ChunkSize,
                    (false, Some(n)) if n > 0 => State::Body { remaining: n },
                    _ => State::RequestLine,
                };
            }
            State::Headers { length, chunked } => {
                out.extend_from_slice(line);
                self.state = match header(text) {
                    Header::Length(n) if length.is_none_or(|l| l == n) => State::Headers {
                        length: Some(n),
                        chunked,
                    },
                    Header::Chunked => State::Headers {
                        length,
                        chunked: true,
                    },
                    Header::Other => State::Headers { length, chunked },
                    // Conflicting lengths, an unknown transfer coding, an upgrade: the parser
                    // decides what they mean, not this layer.
                    Header::Unfollowable | Header::Length(_) => State::PassThrough,
                };
            }
            State::ChunkSize => {
                out.extend_from_slice(line);
                let size = text.split(|&b| b == b';').next().unwrap_or_default();
                let size = std::str::from_utf8(size)
                    .ok()
                    .and_then(|s| u64::from_str_radix(s.trim(), 16).ok());
                self.state = match size {
                    Some(0) => State::Trailers,
                    Some(n) => State::ChunkData {
                        remaining: n.saturating_add(2),
                    },
                    None => State::PassThrough,
                };
            }
            State::Trailers => {
                out.extend_from_slice(line);
                if text.is_empty() {
                    self.state = State::RequestLine;
                }
            }
            State::Body { .. } | State::ChunkData { .. } | State::PassThrough => {
                out.extend_from_slice(line);
            }
        }
    }
}

/// What a header line says about the body's framing.
enum Header {
    Length(u64),
    Chunked,
    Unfollowable,
    Other,
}

fn header(line: &[u8]) -> Header {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Header::Unfollowable;
    };
    let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
    if name.eq_ignore_ascii_case(b"content-length") {
        return std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Header::Unfollowable, Header::Length);
    }
    if name.eq_ignore_ascii_case(b"transfer-encoding") {
        return if value.eq_ignore_ascii_case(b"chunked") {
            Header::Chunked
        } else {
            Header::Unfollowable
        };
    }
    if name.eq_ignore_ascii_case(b"upgrade") {
        return Header::Unfollowable;
    }
    Header::Other
}

/// `METHOD SP target SP version CRLF` with the target's raw bytes percent-encoded. The target
/// is everything between the first and the last space, so spaces inside it are kept (encoded).
fn rewrite_request_line(line: &[u8]) -> Vec<u8> {
    let text = trim_eol(line);
    let eol = &line[text.len()..];
    let (Some(first), Some(last)) = (
        text.iter().position(|&b| b == b' '),
        text.iter().rposition(|&b| b == b' '),
    ) else {
        return line.to_vec();
    };
    if first == last || !text[last + 1..].starts_with(b"HTTP/") {
        return line.to_vec();
    }
    let mut out = Vec::with_capacity(line.len() + 16);
    out.extend_from_slice(&text[..=first]);
    for &b in &text[first + 1..last] {
        if must_encode(b) {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&text[last..]);
    out.extend_from_slice(eol);
    out
}

/// Bytes a request target may not hold raw (RFC 3986 2, 3.3, 3.4) that clients send anyway.
fn must_encode(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
    ) || b >= 0x80
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// A connection whose reads go through a [`TargetRewriter`]; writes pass untouched.
#[derive(Debug)]
pub struct LenientTarget<IO> {
    io: IO,
    rewriter: TargetRewriter,
    /// Rewritten bytes not yet handed to the reader.
    pending: Vec<u8>,
    consumed: usize,
}

impl<IO> LenientTarget<IO> {
    pub fn new(io: IO) -> Self {
        Self {
            io,
            rewriter: TargetRewriter::default(),
            pending: Vec::new(),
            consumed: 0,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for LenientTarget<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.consumed < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.consumed);
                buf.put_slice(&this.pending[this.consumed..this.consumed + n]);
                this.consumed += n;
                if this.consumed == this.pending.len() {
                    this.pending.clear();
                    this.consumed = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut raw = [0u8; 8192];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.io).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) if raw_buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    let filled = raw_buf.filled();
                    this.rewriter.feed(filled, &mut this.pending);
                    // A line still being collected produced nothing yet: read on.
                }
                other => return other,
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for LenientTarget<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests;
