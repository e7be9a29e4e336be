//! Parser tests: one per keyword, the header, skips, and error positions.

use proptest::prelude::*;

use super::*;
use crate::net::Expr;

fn rule(text: &str) -> Rule {
    match parse_rule(text) {
        Outcome::Rule(r) => *r,
        other => panic!("{text}: {other:?}"),
    }
}

fn opts(options: &str) -> Rule {
    rule(&format!("alert tcp any any -> any any ({options} sid:1;)"))
}

fn error(text: &str) -> ParseError {
    match parse_rule(text) {
        Outcome::Error(e) => e,
        other => panic!("{text}: expected an error, got {other:?}"),
    }
}

fn skip(text: &str) -> SkipReason {
    match parse_rule(text) {
        Outcome::Skipped(s) => s.reason,
        other => panic!("{text}: expected a skip, got {other:?}"),
    }
}

fn content(r: &Rule, i: usize) -> &Content {
    match r.steps.get(i) {
        Some(Step::Content(c)) => c,
        other => panic!("step {i}: {other:?}"),
    }
}

#[test]
fn header() {
    let r = rule("alert tcp $HOME_NET [1024:] -> !10.0.0.0/8 $HTTP_PORTS (sid:5;)");
    assert_eq!(r.action, Action::Alert);
    assert_eq!(r.protocol, "tcp");
    assert_eq!(r.src, Expr::Var("HOME_NET".into()));
    assert!(!r.bidirectional);
    assert!(matches!(r.dst, Expr::Not(_)));
    assert_eq!(r.dst_ports, Expr::Var("HTTP_PORTS".into()));
    let r = rule("drop udp any any <> [10.0.0.1, 10.0.0.2] 53 (sid:6;)");
    assert_eq!(r.action, Action::Drop);
    assert!(r.bidirectional);
    assert_eq!(r.proto.transports, UDP);
    assert_eq!(
        rule("reject ip any any -> any any (sid:7;)")
            .proto
            .transports,
        ALL
    );
    assert_eq!(
        rule("alert icmp any any -> any any (sid:7;)")
            .proto
            .transports,
        ICMP
    );
    let m = rule("alert modbus any any -> any any (sid:8;)");
    assert_eq!(m.proto.transports, TCP);
    assert_eq!(
        m.proto.server_ports,
        Some(&[PortRange { lo: 502, hi: 502 }][..])
    );
    assert_eq!(
        rule("alert tcp-stream any any -> any any (sid:9;)")
            .proto
            .stream,
        Some(true)
    );
    // `(` directly after the ports.
    assert_eq!(rule("alert tcp any any -> any 80(sid:10;)").sid, 10);
}

#[test]
fn metadata_keywords() {
    let r = opts(
        r#"msg:"ET TEST a \"b\" \; c"; rev:4; gid:3; classtype:trojan-activity; priority:2; reference:url,example.com/a; reference:cve,2020-1; metadata:created_at 2020_01_01, former_category X; target:dest_ip; tag:session,10,packets;"#,
    );
    assert_eq!(r.msg, r#"ET TEST a "b" ; c"#);
    assert_eq!((r.sid, r.rev, r.gid, r.priority), (1, 4, 3, Some(2)));
    assert_eq!(r.classtype.as_deref(), Some("trojan-activity"));
    assert_eq!(r.references, ["url,example.com/a", "cve,2020-1"]);
    assert_eq!(r.metadata, ["created_at 2020_01_01, former_category X"]);
    assert_eq!(opts("").rev, 0);
    assert_eq!(opts("").gid, 1);
}

#[test]
fn content_and_modifiers() {
    let r = opts(
        r#"content:"GET |20|/"; nocase; offset:2; depth:10; content:!"x"; distance:-3; within:8; fast_pattern; rawbytes;"#,
    );
    let c = content(&r, 0);
    assert_eq!(c.bytes, b"GET  /");
    assert!(c.nocase && !c.negated);
    assert_eq!((c.offset, c.depth), (Some(2), Some(10)));
    let c = content(&r, 1);
    assert!(c.negated && c.fast_pattern);
    assert_eq!((c.distance, c.within), (Some(-3), Some(8)));
    let r = opts(r#"content:"a"; startswith; content:"b"; endswith;"#);
    assert!(content(&r, 0).startswith && content(&r, 1).endswith);
    // A modifier after isdataat applies to the last content.
    let r = opts(r#"content:"abc"; isdataat:!1,relative; nocase;"#);
    assert!(content(&r, 0).nocase);
    assert_eq!(
        r.steps[1],
        Step::IsDataAt(IsDataAt {
            pos: 1,
            relative: true,
            negated: true
        })
    );
    // fast_pattern forms.
    for fp in ["fast_pattern:only;", "fast_pattern:0,4;", "fast_pattern;"] {
        assert!(content(&opts(&format!(r#"content:"abcd"; {fp}"#)), 0).fast_pattern);
    }
}

#[test]
fn pcre_option() {
    let r = opts(r#"pcre:"/a\;b/Ri";"#);
    assert_eq!(
        r.steps[0],
        Step::Pcre(Pcre {
            pattern: r"(?i)a\;b".into(),
            relative: true,
            negated: false
        })
    );
    let r = opts(r#"pcre:!"/x/";"#);
    assert!(matches!(&r.steps[0], Step::Pcre(p) if p.negated));
    assert_eq!(
        skip(r#"alert tcp any any -> any any (pcre:"/(a)\1/"; sid:1;)"#),
        SkipReason::Pcre("backreference".into())
    );
    assert_eq!(
        skip(r#"alert tcp any any -> any any (pcre:"/a/U"; sid:1;)"#),
        SkipReason::Pcre("flag U (HTTP buffer)".into())
    );
    assert_eq!(
        error(r#"alert tcp any any -> any any (pcre:/a/; sid:1;)"#).column,
        36
    );
}

#[test]
fn flow_option() {
    let f = opts("flow:established,to_server;").flow;
    assert_eq!(
        (f.to_server, f.established, f.stream),
        (Some(true), Some(true), None)
    );
    let f = opts("flow: from_server , not_established, only_stream;").flow;
    assert_eq!(
        (f.to_server, f.established, f.stream),
        (Some(false), Some(false), Some(true))
    );
    let f = opts("flow:to_client,stateless,no_stream;").flow;
    assert_eq!(
        (f.to_server, f.established, f.stream),
        (Some(false), None, Some(false))
    );
    let e = error("alert tcp any any -> any any (flow:sideways; sid:1;)");
    assert_eq!((e.line, e.column), (1, 36));
}

#[test]
fn dsize_option() {
    for (v, d) in [
        ("10", Dsize::Eq(10)),
        ("<10", Dsize::Lt(10)),
        (">10", Dsize::Gt(10)),
        ("<=10", Dsize::Le(10)),
        (">=10", Dsize::Ge(10)),
        ("!10", Dsize::Ne(10)),
        ("5<>10", Dsize::Between(5, 10)),
    ] {
        assert_eq!(opts(&format!("dsize:{v};")).dsize, Some(d), "{v}");
    }
    assert!(Dsize::Between(5, 10).matches(6) && !Dsize::Between(5, 10).matches(5));
    assert_eq!(
        error("alert tcp any any -> any any (dsize:10<>5; sid:1;)").column,
        37
    );
}

#[test]
fn flowbits_option() {
    let r = opts(
        "flowbits:set,a.b; flowbits:isset,a|c; flowbits:isnotset,x&y; flowbits:unset,a.b; flowbits:toggle,t; flowbits:noalert;",
    );
    assert_eq!(
        r.flowbits,
        [
            Flowbit::Set("a.b".into()),
            Flowbit::IsSet(vec!["a".into(), "c".into()], false),
            Flowbit::IsNotSet(vec!["x".into(), "y".into()], true),
            Flowbit::Unset("a.b".into()),
            Flowbit::Toggle("t".into()),
        ]
    );
    assert!(r.noalert);
    assert!(opts("noalert;").noalert);
    error("alert tcp any any -> any any (flowbits:set; sid:1;)");
    error("alert tcp any any -> any any (flowbits:frob,x; sid:1;)");
    error("alert tcp any any -> any any (flowbits:isset,a|b&c; sid:1;)");
}

#[test]
fn skips_name_the_first_unsupported_thing() {
    let s = |t: &str| skip(t).to_string();
    assert_eq!(
        s(r#"alert tcp any any -> any any (content:"a"; byte_test:1,>,2,0; sid:1;)"#),
        "unsupported keyword byte_test"
    );
    assert_eq!(
        s(r#"alert http any any -> any any (http.uri; content:"a"; sid:1;)"#),
        "unsupported keyword http.uri"
    );
    assert_eq!(
        s(r#"alert tcp any any -> any any (content:"a"; http_uri; threshold:type limit; sid:1;)"#),
        "unsupported keyword http_uri"
    );
    assert_eq!(
        s("pass tcp any any -> any any (sid:1;)"),
        "unsupported action pass"
    );
    assert_eq!(
        s("alert ftp-data any any -> any any (sid:1;)"),
        "unsupported protocol ftp-data"
    );
    assert_eq!(
        s(r#"alert tcp any any -> any any (content:"a"; distance:var1; sid:1;)"#),
        "unsupported keyword distance with a variable"
    );
    // The sid is kept even when the skip comes first.
    match parse_rule("alert tcp any any -> any any (app-layer-event:x; sid:42;)") {
        Outcome::Skipped(s) => assert_eq!(s.sid, Some(42)),
        other => panic!("{other:?}"),
    }
    // An error after the skip reason does not turn the skip into an error.
    skip(r#"alert tcp any any -> any any (byte_jump:4,0; nocase; sid:1;)"#);
}

#[test]
fn error_positions() {
    let at = |t: &str| {
        let e = error(t);
        (e.line, e.column)
    };
    assert_eq!(at("alrt tcp any any -> any any (sid:1;)"), (1, 1));
    assert_eq!(at("alert tcp any any => any any (sid:1;)"), (1, 19));
    assert_eq!(at("alert tcp 10.0.0.300 any -> any any (sid:1;)"), (1, 11));
    assert_eq!(at("alert tcp any [80,x] -> any any (sid:1;)"), (1, 19));
    assert_eq!(at("alert tcp any any -> any any sid:1;"), (1, 30));
    assert_eq!(at("alert tcp any any -> any any (sid:1;"), (1, 37));
    assert_eq!(
        at(r#"alert tcp any any -> any any (content:"a|4"; sid:1;)"#),
        (1, 41)
    );
    assert_eq!(
        at(r#"alert tcp any any -> any any (content:"ab"; depth:1; sid:1;)"#),
        (1, 51)
    );
    assert_eq!(
        at(r#"alert tcp any any -> any any (nocase; sid:1;)"#),
        (1, 31)
    );
    assert_eq!(
        at(r#"alert tcp any any -> any any (content:"a"; offset:1; distance:1; sid:1;)"#),
        (1, 54)
    );
    assert_eq!(at(r#"alert tcp any any -> any any (msg:"x")"#), (1, 38));
    assert_eq!(
        at(r#"alert tcp any any -> any any (msg:"x"; sid:x;)"#),
        (1, 44)
    );
    assert_eq!(at(r#"alert tcp any any -> any any (msg:"x";)"#), (1, 30));
    assert_eq!(
        at(r#"alert tcp any any -> any any (content:""; sid:1;)"#),
        (1, 39)
    );
}

#[test]
fn files_with_comments_continuations_and_bad_rules() {
    let text = "# a comment\n\
                \n\
                alert tcp any any -> any any (msg:\"one\"; \\\n\
                \x20   content:\"a\"; \\\n\
                \x20   sid:1;)\n\
                #alert tcp any any -> any any (msg:\"disabled\"; sid:2;)\n\
                alert tcp any any -> any any (msg:\"bad\"; \\\n\
                \x20   content:\"a|4\"; sid:3;)\r\n\
                alert tcp any any -> any any (msg:\"skip\"; byte_jump:1,0; sid:4;)\n\
                alert udp any any -> any any (msg:\"two\"; content:\"b\"; sid:5;)";
    let l = parse_rules(text);
    assert_eq!(
        l.rules.iter().map(|r| (r.sid, r.line)).collect::<Vec<_>>(),
        [(1, 3), (5, 10)]
    );
    assert_eq!(
        l.skipped,
        [Skipped {
            line: 9,
            sid: Some(4),
            reason: SkipReason::Keyword("byte_jump".into())
        }]
    );
    // The error is on the continuation line, column of the bad hex block.
    assert_eq!(l.errors.len(), 1);
    assert_eq!((l.errors[0].line, l.errors[0].column), (8, 15));
}

#[test]
fn variables_in_list_without_brackets() {
    let r = rule("alert tcp $HOME_NET any -> $EXTERNAL_NET !5800,!445 (sid:1;)");
    assert!(matches!(r.dst_ports, Expr::List(ref v) if v.len() == 2));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parsing_any_string_never_panics(s in "\\PC{0,200}") {
        let _ = parse_rules(&s);
    }

    #[test]
    fn parsing_rule_shaped_strings_never_panics(
        action in "(alert|drop|pass|x)",
        proto in "(tcp|udp|ip|http|modbus|[a-z]{1,5})",
        addr in "(any|\\$HOME_NET|!?\\[[0-9./!,]{0,20}\\]|[0-9.:/]{1,18})",
        ports in "(any|[0-9:!,\\[\\]]{1,12})",
        options in "([a-z_.]{1,10}(:[ -~]{0,30})?; ){0,8}",
    ) {
        let text = format!("{action} {proto} {addr} {ports} -> {addr} {ports} ({options})");
        if let Outcome::Rule(r) = parse_rule(&text) {
            // Whatever loads also compiles without panicking.
            let set = crate::RuleSet::compile(vec![*r], &crate::Vars::default());
            let mut hits = Vec::new();
            let ctx = crate::PacketContext {
                proto: crate::Transport::Tcp,
                src: (crate::net::v4(10, 0, 0, 1), 1234),
                dst: (crate::net::v4(10, 0, 0, 2), 80),
                to_server: true,
                established: true,
                stream: false,
                payload: text.as_bytes(),
            };
            set.scan(&ctx, &mut crate::FlowRuleState::default(), &mut crate::Scratch::default(), &mut hits);
        }
    }

    #[test]
    fn contents_round_trip(bytes in proptest::collection::vec(any::<u8>(), 1..40)) {
        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let r = opts(&format!("content:\"|{}|\";", hex.join(" ")));
        prop_assert_eq!(&content(&r, 0).bytes, &bytes);
    }
}
