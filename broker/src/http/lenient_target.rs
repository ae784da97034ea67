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
//!
//! It holds each request head until it is complete and judges it as the parser would
//! (httparse, then the method and the target as URI), under the limits below; a head it
//! refuses, or one that does not arrive within the head timeout, reaches the parser as the
//! stand-in request of [`super::refusal`], so that the client gets a ProblemDetails rather
//! than the parser's empty 400, 408 or 431.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::refusal::Refusal;

/// A chunk-size or trailer line longer than this is passed through unexamined, and the rest of
/// the connection with it; the HTTP parser applies its own limits to it.
const MAX_LINE: usize = 64 * 1024;

/// Longest request line (percent-encoded as the parser gets it): 414 beyond. RFC 9112 3
/// recommends supporting at least 8,000 octets; queries with long `q` or `ids` lists need more.
pub const MAX_REQUEST_LINE: usize = 64 * 1024;

/// Longest request head, request line included: 431 beyond. Below the 128 KiB at which the
/// parser under actix-web gives up on a head.
pub const MAX_HEAD: usize = 96 * 1024;

/// Most header fields in one request: the parser under actix-web takes no more (431 beyond).
pub const MAX_HEADERS: usize = 96;

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
    /// A head was refused and its stand-in handed on: what the client sends after it is
    /// dropped (the stand-in closes the connection).
    Refused,
}

/// The byte-stream rewriter: input from the client in, input for the HTTP parser out.
#[derive(Debug)]
pub struct TargetRewriter {
    state: State,
    line: Vec<u8>,
    /// The head being collected (request line rewritten, headers as sent).
    head: Vec<u8>,
    /// Heads handed on so far.
    heads: u64,
}

impl Default for TargetRewriter {
    fn default() -> Self {
        Self {
            state: State::RequestLine,
            line: Vec::new(),
            head: Vec::new(),
            heads: 0,
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
                State::Refused => return,
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
                        match self.state {
                            State::RequestLine if self.line.len() > MAX_REQUEST_LINE => {
                                self.refuse(Refusal::UriTooLong, out)
                            }
                            State::Headers { .. }
                                if self.head.len() + self.line.len() > MAX_HEAD =>
                            {
                                self.refuse(Refusal::HeadTooLarge, out)
                            }
                            State::ChunkSize | State::Trailers if self.line.len() > MAX_LINE => {
                                self.give_up(out)
                            }
                            _ => {}
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
        out.append(&mut self.head);
        out.append(&mut self.line);
        self.state = State::PassThrough;
    }

    /// Hands on the stand-in of `refusal` instead of the head being collected.
    fn refuse(&mut self, refusal: Refusal, out: &mut Vec<u8>) {
        tracing::debug!(?refusal, "request head refused");
        self.head.clear();
        self.line.clear();
        out.extend_from_slice(&refusal.stand_in());
        self.state = State::Refused;
    }

    /// Whether part of a request head has arrived and the rest is awaited.
    pub fn head_in_progress(&self) -> bool {
        match self.state {
            State::RequestLine => !self.line.is_empty(),
            State::Headers { .. } => true,
            _ => false,
        }
    }

    /// Whether a head timeout runs: a head has begun, or the connection's first is awaited
    /// (later ones are awaited under the keep-alive timeout of the server).
    pub fn head_awaited(&self) -> bool {
        self.head_in_progress()
            || (self.heads == 0 && self.state == State::RequestLine && self.line.is_empty())
    }

    /// The head timeout expired: refuses the head being collected (or not yet begun).
    pub fn time_out(&mut self, out: &mut Vec<u8>) {
        if matches!(self.state, State::RequestLine | State::Headers { .. }) {
            self.refuse(Refusal::HeadTimeout, out);
        }
    }

    /// One complete line (with its LF) in the current state.
    fn line_done(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let text = trim_eol(line);
        match self.state {
            State::RequestLine if text.is_empty() => out.extend_from_slice(line),
            State::RequestLine => {
                let rewritten = rewrite_request_line(line);
                if rewritten.len() > MAX_REQUEST_LINE {
                    return self.refuse(Refusal::UriTooLong, out);
                }
                if let Err(refusal) = judge_request_line(&rewritten) {
                    return self.refuse(refusal, out);
                }
                self.head = rewritten;
                self.state = State::Headers {
                    length: None,
                    chunked: false,
                };
            }
            State::Headers { length, chunked } if text.is_empty() => {
                self.head.extend_from_slice(line);
                if let Err(refusal) = judge_head(&self.head) {
                    return self.refuse(refusal, out);
                }
                out.append(&mut self.head);
                self.heads += 1;
                self.state = match (chunked, length) {
                    (true, _) => State::ChunkSize,
                    (false, Some(n)) if n > 0 => State::Body { remaining: n },
                    _ => State::RequestLine,
                };
            }
            State::Headers { length, chunked } => {
                if self.head.len() + line.len() > MAX_HEAD {
                    return self.refuse(Refusal::HeadTooLarge, out);
                }
                self.head.extend_from_slice(line);
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
                    // A Content-Length that is no number, or two that differ: the parser
                    // refuses them (RFC 9112 6.3), so this layer does, with a body.
                    Header::BadLength | Header::Length(_) => {
                        return self.refuse(Refusal::MalformedHeader, out)
                    }
                    // An unknown transfer coding, an upgrade: the parser decides what they
                    // mean, not this layer.
                    Header::Unfollowable => {
                        out.append(&mut self.head);
                        State::PassThrough
                    }
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
            State::Refused => {}
        }
    }
}

/// What a header line says about the body's framing.
enum Header {
    Length(u64),
    /// A Content-Length that is not a number.
    BadLength,
    Chunked,
    Unfollowable,
    Other,
}

fn header(line: &[u8]) -> Header {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        // Not a header field: judge_head refuses the head.
        return Header::Other;
    };
    let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
    if name.eq_ignore_ascii_case(b"content-length") {
        return std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Header::BadLength, Header::Length);
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

/// The request line as the parser under actix-web reads it (httparse, then the method and the
/// target as `http` types).
fn judge_request_line(line: &[u8]) -> Result<(), Refusal> {
    let mut head = line.to_vec();
    head.extend_from_slice(b"\r\n");
    let mut headers = [httparse::EMPTY_HEADER; 0];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(&head) {
        Ok(_) => {}
        Err(_) => return Err(Refusal::MalformedRequestLine),
    }
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Err(Refusal::MalformedRequestLine);
    };
    actix_web::http::Method::from_bytes(method.as_bytes())
        .map_err(|_| Refusal::MalformedRequestLine)?;
    actix_web::http::Uri::try_from(target).map_err(|_| Refusal::MalformedTarget)?;
    Ok(())
}

/// A complete head (request line already judged) as the parser reads it.
fn judge_head(head: &[u8]) -> Result<(), Refusal> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(()),
        // Cannot be: the head ends with its empty line. The parser decides.
        Ok(httparse::Status::Partial) => Ok(()),
        Err(httparse::Error::TooManyHeaders) => Err(Refusal::TooManyHeaders),
        Err(httparse::Error::Version | httparse::Error::Token) => {
            Err(Refusal::MalformedRequestLine)
        }
        Err(_) => Err(Refusal::MalformedHeader),
    }
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

/// A connection whose reads go through a [`TargetRewriter`]; writes pass untouched. A request
/// head (the first from the connection's start, later ones from their first byte) must arrive
/// within `head_timeout`, else the parser gets the 408 stand-in.
#[derive(Debug)]
pub struct LenientTarget<IO> {
    io: IO,
    rewriter: TargetRewriter,
    /// Rewritten bytes not yet handed to the reader.
    pending: Vec<u8>,
    consumed: usize,
    head_timeout: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<IO> LenientTarget<IO> {
    pub fn new(io: IO, head_timeout: Duration) -> Self {
        Self {
            io,
            rewriter: TargetRewriter::default(),
            pending: Vec::new(),
            consumed: 0,
            head_timeout,
            deadline: Some(Box::pin(tokio::time::sleep(head_timeout))),
        }
    }

    /// Starts the head timeout when a head begins, stops it when none is awaited.
    fn arm(&mut self) {
        if !self.rewriter.head_awaited() {
            self.deadline = None;
        } else if self.deadline.is_none() {
            self.deadline = Some(Box::pin(tokio::time::sleep(self.head_timeout)));
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
                    this.arm();
                    // A line still being collected produced nothing yet: read on.
                }
                Poll::Pending => {
                    let expired = this
                        .deadline
                        .as_mut()
                        .is_some_and(|d| d.as_mut().poll(cx).is_ready());
                    if !expired {
                        return Poll::Pending;
                    }
                    this.deadline = None;
                    this.rewriter.time_out(&mut this.pending);
                    if this.pending.is_empty() {
                        return Poll::Pending;
                    }
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
