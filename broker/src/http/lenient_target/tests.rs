use proptest::prelude::*;

use super::{TargetRewriter, MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE};
use crate::http::refusal::Refusal;

fn rewrite(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    TargetRewriter::default().feed(input, &mut out);
    out
}

/// The same input fed in pieces of every size gives the same output as fed at once.
fn rewrite_in_pieces(input: &[u8], piece: usize) -> Vec<u8> {
    let mut rewriter = TargetRewriter::default();
    let mut out = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        rewriter.feed(chunk, &mut out);
    }
    out
}

#[test]
fn raw_query_characters_are_percent_encoded_in_the_target_only() {
    let input = "GET /ngsi-ld/v1/entities?q=name==\"Eiffel Tower\";speed>5|a<b HTTP/1.1\r\n\
                 Host: x\r\nX-Note: \"<quoted>\"\r\n\r\n";
    let out = String::from_utf8(rewrite(input.as_bytes())).expect("ASCII");
    assert_eq!(
        out,
        "GET /ngsi-ld/v1/entities?q=name==%22Eiffel%20Tower%22;speed%3E5%7Ca%3Cb HTTP/1.1\r\n\
         Host: x\r\nX-Note: \"<quoted>\"\r\n\r\n"
    );
}

#[test]
fn utf8_in_the_target_is_percent_encoded() {
    let out = rewrite("GET /e?q=name==\"Zürich\" HTTP/1.1\r\n\r\n".as_bytes());
    assert_eq!(out, b"GET /e?q=name==%22Z%C3%BCrich%22 HTTP/1.1\r\n\r\n");
}

#[test]
fn bodies_are_never_rewritten_and_the_next_request_is() {
    let body = "{\"q\": \"a > b\"}";
    let input = format!(
        "POST /e HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET /e?q=a>1 HTTP/1.1\r\n\r\n",
        body.len()
    );
    let expected = format!(
        "POST /e HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}GET /e?q=a%3E1 HTTP/1.1\r\n\r\n",
        body.len()
    );
    assert_eq!(rewrite(input.as_bytes()), expected.as_bytes());
}

#[test]
fn chunked_bodies_are_followed_to_the_next_request() {
    let input = "POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                 5;ext=1\r\nGET <\r\n3\r\n> >\r\n0\r\nTrailer: x\r\n\r\n\
                 GET /e?q=a>1 HTTP/1.1\r\n\r\n";
    let out = String::from_utf8(rewrite(input.as_bytes())).expect("ASCII");
    assert!(
        out.contains("5;ext=1\r\nGET <\r\n3\r\n> >\r\n0\r\n"),
        "{out}"
    );
    assert!(out.ends_with("GET /e?q=a%3E1 HTTP/1.1\r\n\r\n"), "{out}");
}

#[test]
fn what_it_cannot_follow_passes_through_unchanged() {
    for input in [
        "GET /e?q=a>1 HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /f?q=<\r\n",
        "GET /e HTTP/1.1\r\nUpgrade: websocket\r\n\r\n<raw>",
        "POST /e HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n<x>\r\n",
    ] {
        let out = String::from_utf8(rewrite(input.as_bytes())).expect("ASCII");
        let tail = input.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert!(out.ends_with(tail), "{input:?} -> {out:?}");
    }
}

#[test]
fn heads_the_parser_would_refuse_become_the_stand_in_of_their_refusal() {
    let long_target = format!("GET /e?q={} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
    let long_line = format!("GET /e?q={}", "a".repeat(MAX_REQUEST_LINE));
    let many: String = (0..=MAX_HEADERS)
        .map(|i| format!("X-{i}: {i}\r\n"))
        .collect();
    let big_header = format!("GET /e HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(MAX_HEAD));
    let cases = [
        ("GARBAGE\r\n".to_owned(), Refusal::MalformedRequestLine),
        ("GET /e\r\n".to_owned(), Refusal::MalformedRequestLine),
        ("GET /a b c\r\n".to_owned(), Refusal::MalformedRequestLine),
        (long_target, Refusal::UriTooLong),
        // Refused before its end arrives: the parser never buffers it.
        (long_line, Refusal::UriTooLong),
        (
            format!("GET /e HTTP/1.1\r\n{many}\r\n"),
            Refusal::TooManyHeaders,
        ),
        (big_header, Refusal::HeadTooLarge),
        (
            "GET /e HTTP/1.1\r\nX-Bad: a\0b\r\n\r\n".to_owned(),
            Refusal::MalformedHeader,
        ),
        (
            "GET /e HTTP/1.1\r\nX-Bad: a\rb\r\n\r\n".to_owned(),
            Refusal::MalformedHeader,
        ),
        (
            "GET /e HTTP/1.1\r\nno colon\r\n\r\n".to_owned(),
            Refusal::MalformedHeader,
        ),
        (
            "GET /e HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcGET <\r\n"
                .to_owned(),
            Refusal::MalformedHeader,
        ),
        (
            "POST /e HTTP/1.1\r\nContent-Length: x\r\n\r\n".to_owned(),
            Refusal::MalformedHeader,
        ),
    ];
    for (input, refusal) in cases {
        let out = rewrite(input.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&refusal.stand_in()),
            "{:?}",
            &input[..input.len().min(80)]
        );
    }
}

#[test]
fn what_follows_a_refused_head_is_dropped() {
    let out = rewrite(b"GARBAGE\r\n\r\nGET /e HTTP/1.1\r\n\r\n");
    assert_eq!(out, Refusal::MalformedRequestLine.stand_in());
}

#[test]
fn a_head_timeout_refuses_the_head_in_progress_only() {
    let mut rewriter = TargetRewriter::default();
    let mut out = Vec::new();
    assert!(
        rewriter.head_awaited(),
        "the first head is awaited from the start"
    );
    rewriter.feed(b"GET /e HTTP/1.1\r\n\r\n", &mut out);
    assert!(
        !rewriter.head_awaited(),
        "later heads: the keep-alive timeout"
    );
    rewriter.feed(b"GET /f HT", &mut out);
    assert!(rewriter.head_awaited());
    out.clear();
    rewriter.time_out(&mut out);
    assert_eq!(out, Refusal::HeadTimeout.stand_in());
}

proptest! {
    /// Whatever the input and however it is split into reads, the rewriter loses and invents
    /// nothing: removing the encoding it added gives back the input.
    #[test]
    fn rewriting_is_lossless_and_independent_of_read_sizes(
        requests in proptest::collection::vec(
            ("[ -$&-~é]{0,40}", proptest::option::of("[ -$&-~]{0,30}")), 1..4),
        piece in 1usize..32,
    ) {
        let mut input = Vec::new();
        for (target, body) in &requests {
            input.extend_from_slice(format!("GET /x?{target} HTTP/1.1\r\n").as_bytes());
            match body {
                Some(body) => input.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
                ),
                None => input.extend_from_slice(b"\r\n"),
            }
        }
        let whole = rewrite(&input);
        prop_assert_eq!(&rewrite_in_pieces(&input, piece), &whole);
        let decoded = percent_decode_added(&whole);
        prop_assert_eq!(decoded, input);
    }
}

/// Undoes the encodings the rewriter adds (it only ever adds `%XX` for bytes it encodes; the
/// generated inputs hold no `%` of their own).
fn percent_decode_added(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            ) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
