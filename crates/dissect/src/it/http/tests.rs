use proptest::prelude::*;

use super::*;

/// A GET with the headers the dissector reads.
const GET: &[u8] = b"GET /index.html?a=1 HTTP/1.1\r\n\
Host: plc-web.plant\r\n\
User-Agent: Mozilla/5.0 (Windows NT 6.1)\r\n\
Accept: */*\r\n\
\r\n";

/// Its response: 11 bytes of body by Content-Length.
const OK_11: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: GoAhead-Webs\r\n\
Content-Type: text/html\r\n\
Content-Length: 11\r\n\
\r\n\
hello world";

/// A POST with a 5-byte body.
const POST: &[u8] = b"POST /cgi/write HTTP/1.1\r\nHost: plc\r\nContent-Length: 5\r\n\r\nx=1&y";

/// A chunked response: chunks of 4 and 6 bytes (one with an extension), a trailer.
const CHUNKED: &[u8] = b"HTTP/1.1 404 Not Found\r\n\
Transfer-Encoding: chunked\r\n\
\r\n\
4\r\nabcd\r\n\
6;ext=1\r\nefghij\r\n\
0\r\n\
X-Trailer: t\r\n\
\r\n";

fn run(chunks: &[(Direction, &[u8])]) -> (Session, Vec<HttpRecord>, Vec<IdentityFact>) {
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    for (i, (dir, bytes)) in chunks.iter().enumerate() {
        s.on_data(*dir, i as i64, bytes, &mut records, &mut facts);
    }
    s.finish(&mut records);
    (s, records, facts)
}

#[test]
fn request_and_response_make_one_record() {
    let (_, records, facts) = run(&[(Direction::Orig, GET), (Direction::Resp, OK_11)]);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.method.as_deref(), Some("GET"));
    assert_eq!(r.uri.as_deref(), Some("/index.html?a=1"));
    assert_eq!(r.host.as_deref(), Some("plc-web.plant"));
    assert_eq!(r.version.as_deref(), Some("1.1"));
    assert_eq!(
        r.user_agent.as_deref(),
        Some("Mozilla/5.0 (Windows NT 6.1)")
    );
    assert_eq!(r.status_code, Some(200));
    assert_eq!(r.status_msg.as_deref(), Some("OK"));
    assert_eq!(r.server.as_deref(), Some("GoAhead-Webs"));
    assert_eq!(r.response_content_type.as_deref(), Some("text/html"));
    assert_eq!(r.response_body_len, 11);
    assert_eq!(r.trans_depth, 1);
    assert_eq!(r.flags, Flags::default());
    assert_eq!(
        facts,
        vec![
            IdentityFact {
                about: Subject::Side(Direction::Orig),
                kind: IdentityKind::UserAgent,
                value: "Mozilla/5.0 (Windows NT 6.1)".into(),
                protocol: PROTOCOL,
            },
            IdentityFact {
                about: Subject::Side(Direction::Resp),
                kind: IdentityKind::Software,
                value: "GoAhead-Webs".into(),
                protocol: PROTOCOL,
            },
        ]
    );
}

#[test]
fn pipelined_requests_in_one_segment_pair_in_order() {
    let mut reqs = Vec::new();
    reqs.extend_from_slice(GET);
    reqs.extend_from_slice(POST);
    reqs.extend_from_slice(GET);
    let mut resps = Vec::new();
    resps.extend_from_slice(OK_11);
    resps.extend_from_slice(CHUNKED);
    resps.extend_from_slice(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
    let (s, records, _) = run(&[(Direction::Orig, &reqs), (Direction::Resp, &resps)]);
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.trans_depth,
                r.method.as_deref(),
                r.status_code,
                r.request_body_len,
                r.response_body_len,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some("GET"), Some(200), 0, 11),
            (2, Some("POST"), Some(404), 5, 10),
            (3, Some("GET"), Some(304), 0, 0),
        ]
    );
    assert_eq!(s.stats.heads, 6);
}

#[test]
fn one_message_across_many_segments() {
    let mut chunks = Vec::new();
    for b in GET.chunks(3) {
        chunks.push((Direction::Orig, b));
    }
    for b in CHUNKED.chunks(2) {
        chunks.push((Direction::Resp, b));
    }
    let (_, records, _) = run(&chunks);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].host.as_deref(), Some("plc-web.plant"));
    assert_eq!(records[0].status_code, Some(404));
    assert_eq!(records[0].response_body_len, 10);
    assert!(!records[0].flags.has(Flags::NO_RESPONSE));
}

#[test]
fn a_large_body_is_skipped_without_buffering() {
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
    s.on_data(
        Direction::Resp,
        1,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n",
        &mut records,
        &mut facts,
    );
    let block = [0x55u8; 1460];
    for _ in 0..(10_000_000 / 1460) {
        s.on_data(Direction::Resp, 2, &block, &mut records, &mut facts);
        assert!(s.sides[1].held.capacity() <= MAX_HEAD);
    }
    assert!(records.is_empty());
    let rest = 10_000_000 % 1460;
    let mut tail = block[..rest].to_vec();
    tail.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n"); // unsolicited, ends at close
    s.on_data(Direction::Resp, 3, &tail, &mut records, &mut facts);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].response_body_len, 10_000_000);
    s.finish(&mut records);
    assert!(records[1].flags.has(Flags::UNSOLICITED_RESPONSE));
}

#[test]
fn a_gap_inside_a_body_is_skipped() {
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
    s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
    s.on_data(
        Direction::Resp,
        1,
        &OK_11[..OK_11.len() - 11],
        &mut records,
        &mut facts,
    );
    s.on_data(Direction::Resp, 1, b"hel", &mut records, &mut facts);
    s.on_gap(Direction::Resp, 8); // the rest of the body
    s.on_data(Direction::Resp, 2, OK_11, &mut records, &mut facts);
    s.finish(&mut records);
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.status_code == Some(200) && r.response_body_len == 11)
    );
    assert!(records.iter().all(|r| !r.flags.has(Flags::RESYNC)));
}

#[test]
fn a_gap_in_a_head_resynchronises_at_the_next_message() {
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    s.on_data(Direction::Orig, 0, &GET[..20], &mut records, &mut facts);
    s.on_gap(Direction::Orig, 40);
    // The rest of some header line, then a whole request.
    let mut after = b"ept-Language: en\r\n\r\n".to_vec();
    after.extend_from_slice(POST);
    s.on_data(Direction::Orig, 1, &after, &mut records, &mut facts);
    s.on_data(Direction::Resp, 2, OK_11, &mut records, &mut facts);
    s.finish(&mut records);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].method.as_deref(), Some("POST"));
    assert_eq!(records[0].request_body_len, 5);
    assert_eq!(records[0].status_code, Some(200));
    assert_eq!(s.stats.gaps, 1);
    assert_eq!(s.stats.skipped, 20); // the two lines before the POST
}

#[test]
fn continue_and_head_and_unanswered() {
    let post = b"PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    let (_, records, _) = run(&[
        (Direction::Orig, post),
        (Direction::Resp, b"HTTP/1.1 100 Continue\r\n\r\n"),
        (Direction::Orig, b"abcHEAD / HTTP/1.0\r\n\r\n"),
        (
            Direction::Resp,
            b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            Direction::Resp,
            b"HTTP/1.0 200 OK\r\nContent-Length: 500\r\n\r\n",
        ),
        (Direction::Orig, b"GET /never HTTP/1.1\r\n\r\n"),
    ]);
    let got: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.method.as_deref(),
                r.info_code,
                r.status_code,
                r.request_body_len,
                r.flags.has(Flags::NO_RESPONSE),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("PUT"), Some(100), Some(201), 3, false),
            (Some("HEAD"), None, Some(200), 0, false),
            (Some("GET"), None, None, 0, true),
        ]
    );
}

#[test]
fn upgrade_turns_the_connection_into_a_tunnel() {
    let (s, records, _) = run(&[
        (
            Direction::Orig,
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
        ),
        (
            Direction::Resp,
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello",
        ),
        (Direction::Orig, b"\x81\x85garbage"),
    ]);
    assert_eq!(records.len(), 1);
    assert!(records[0].tunnel);
    assert_eq!(s.stats.heads, 2);
}

#[test]
fn the_http2_preface_ends_parsing() {
    let (s, records, _) = run(&[
        (
            Direction::Orig,
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00",
        ),
        (Direction::Resp, b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"),
    ]);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].method.as_deref(), Some("PRI"));
    assert_eq!(s.stats.skipped, 0);
    assert!(!s.not_http());
}

#[test]
fn non_http_is_not_this_protocol() {
    for bytes in [
        &b"\x16\x03\x01\x02\x00\x01"[..],
        b"SSH-2.0-OpenSSH_8.9\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET / FOO/1.1\r\n\r\n",
        b"\x00\x01\x00\x00\x00\x06\x01\x03",
    ] {
        assert_eq!(
            HeadParser.parse(Direction::Orig, bytes),
            Parsed::NotThisProtocol,
            "{bytes:?}"
        );
        let (s, records, _) = run(&[(Direction::Orig, bytes)]);
        assert!(s.not_http() && records.is_empty());
    }
    assert_eq!(
        HeadParser.parse(Direction::Orig, b"GE"),
        Parsed::Incomplete { needed: 3 }
    );
    assert_eq!(
        HeadParser.parse(Direction::Orig, b"GET / HT"),
        Parsed::Incomplete { needed: 9 }
    );
}

#[test]
fn violations_are_flags() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\nBadLine\r\n \tfolded\r\n\r\n";
    let Parsed::Pdu { pdu, consumed } = HeadParser.parse(Direction::Resp, head) else {
        panic!("head parses");
    };
    assert_eq!(consumed, head.len());
    assert!(pdu.flags.has(Flags::BAD_LENGTH));
    assert!(pdu.flags.has(Flags::RESERVED_SET));
    assert_eq!(pdu.content_length, Some(5));
    assert_eq!(pdu.header("content-length"), Some(&b"5"[..]));
}

#[test]
fn an_oversized_head_is_given_up() {
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
    s.on_data(
        Direction::Orig,
        0,
        b"GET /big HTTP/1.1\r\nX: ",
        &mut records,
        &mut facts,
    );
    for _ in 0..20 {
        s.on_data(Direction::Orig, 0, &[b'a'; 1000], &mut records, &mut facts);
        assert!(s.sides[0].held.len() <= MAX_HEAD);
    }
    s.on_data(Direction::Orig, 0, b"\r\n\r\n", &mut records, &mut facts);
    s.on_data(Direction::Orig, 0, POST, &mut records, &mut facts);
    s.finish(&mut records);
    assert_eq!(s.stats.oversized_heads, 1);
    let methods: Vec<_> = records.iter().map(|r| r.method.as_deref()).collect();
    assert_eq!(methods, vec![Some("GET"), Some("POST")]);
}

#[test]
fn outstanding_requests_are_bounded() {
    let mut many = Vec::new();
    for _ in 0..MAX_OUTSTANDING + 3 {
        many.extend_from_slice(GET);
    }
    let (_, records, _) = run(&[(Direction::Orig, &many)]);
    assert_eq!(records.len(), MAX_OUTSTANDING + 3);
    let dropped = records
        .iter()
        .filter(|r| r.flags.has(Flags::TOO_MANY_OUTSTANDING))
        .count();
    assert_eq!(dropped, 3);
}

proptest! {
    /// Any segmentation of a pipelined conversation gives the same records.
    #[test]
    fn records_survive_any_segmentation(cuts in proptest::collection::vec(1usize..64, 1..30)) {
        let mut reqs = Vec::new();
        for m in [GET, POST, GET] {
            reqs.extend_from_slice(m);
        }
        let mut resps = Vec::new();
        for m in [OK_11, CHUNKED, OK_11] {
            resps.extend_from_slice(m);
        }
        let whole = run(&[(Direction::Orig, &reqs), (Direction::Resp, &resps)]).1;
        let mut chunks = Vec::new();
        for (dir, stream) in [(Direction::Orig, &reqs), (Direction::Resp, &resps)] {
            let (mut at, mut i) = (0, 0);
            while at < stream.len() {
                let end = (at + cuts[i % cuts.len()]).min(stream.len());
                chunks.push((dir, &stream[at..end]));
                at = end;
                i += 1;
            }
        }
        let mut cut = run(&chunks).1;
        for r in &mut cut {
            r.ts = 0;
        }
        let mut whole = whole;
        for r in &mut whole {
            r.ts = 0;
        }
        prop_assert_eq!(cut, whole);
    }

    /// Arbitrary bytes and gaps never panic and never hold more than a head.
    #[test]
    fn arbitrary_input_never_panics(
        chunks in proptest::collection::vec((any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..12),
        prefix in 0usize..3,
    ) {
        let mut s = Session::new();
        let (mut records, mut facts) = (Vec::new(), Vec::new());
        let starts: [&[u8]; 3] = [GET, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b""];
        s.on_data(Direction::Orig, 0, starts[prefix], &mut records, &mut facts);
        for (resp, gap, bytes) in &chunks {
            let dir = if *resp { Direction::Resp } else { Direction::Orig };
            if *gap {
                s.on_gap(dir, bytes.len() as u64 + 1);
            }
            s.on_data(dir, 1, bytes, &mut records, &mut facts);
            prop_assert!(s.sides.iter().all(|x| x.held.len() <= MAX_HEAD));
        }
        s.finish(&mut records);
    }
}

/// Writes `fuzz/seeds/dissect_http/` (run with `--ignored`): chunks in the fuzz
/// target's format (control byte, bit 0 direction; length; bytes).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/dissect_http");
    std::fs::create_dir_all(&dir).expect("seed dir");
    let mut seed = Vec::new();
    for (dir, bytes) in [(0u8, GET), (1, OK_11), (0, POST), (1, CHUNKED)] {
        for piece in bytes.chunks(255) {
            seed.push(dir);
            seed.push(piece.len() as u8);
            seed.extend_from_slice(piece);
        }
    }
    std::fs::write(dir.join("pipelined"), seed).expect("seed written");
}

/// Throughput, for the record (`cargo test --release -p mamori-dissect --lib
/// http_throughput -- --ignored --nocapture`): 10 000 transactions (a GET, a response
/// with a 200-byte body, one segment each), then a 100 MB body in 1460-byte segments.
#[test]
#[ignore]
fn http_throughput() {
    let mut resp = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 200\r\n\r\n".to_vec();
    resp.extend_from_slice(&[b'z'; 200]);
    let start = std::time::Instant::now();
    let mut s = Session::new();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
        s.on_data(Direction::Resp, 0, &resp, &mut records, &mut facts);
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes = 10_000.0 * (GET.len() + resp.len()) as f64;
    assert_eq!(records.len(), 10_000);
    assert!(
        records
            .iter()
            .all(|r| r.status_code == Some(200) && r.response_body_len == 200)
    );
    s.on_data(Direction::Orig, 0, GET, &mut records, &mut facts);
    s.on_data(
        Direction::Resp,
        0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n",
        &mut records,
        &mut facts,
    );
    let segment = [0u8; 1460];
    let start = std::time::Instant::now();
    let mut left = 100_000_000usize;
    while left > 0 {
        let n = left.min(1460);
        s.on_data(Direction::Resp, 0, &segment[..n], &mut records, &mut facts);
        left -= n;
    }
    let bulk = start.elapsed().as_secs_f64();
    assert_eq!(
        records.last().map(|r| r.response_body_len),
        Some(100_000_000)
    );
    eprintln!(
        "http: {:.0} transactions/s ({:.0} MB/s of small messages); body skipping {:.0} MB/s",
        10_000.0 / secs,
        bytes / secs / 1e6,
        1e8 / bulk / 1e6
    );
}
