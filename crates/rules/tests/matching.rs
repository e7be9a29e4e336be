//! Matching semantics: content modifiers, pcre, flow, dsize, addresses and ports,
//! flowbits, grouping, and the OT rule file against hand-built and real payloads.

use std::net::IpAddr;

use mamori_rules::net::{v4, v6};
use mamori_rules::{
    FlowRuleState, Hit, PacketContext, RuleSet, Scratch, Transport, Vars, parse_rules,
};

const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 1, 10));
const SERVER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 5));

fn set(rules: &str) -> RuleSet {
    let loaded = parse_rules(rules);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let set = RuleSet::compile(loaded.rules, &Vars::default());
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    set
}

/// A TCP packet from the client (port 40000) to the server (port 80), established.
fn ctx(payload: &[u8]) -> PacketContext<'_> {
    PacketContext {
        proto: Transport::Tcp,
        src: (CLIENT, 40000),
        dst: (SERVER, 80),
        to_server: true,
        established: true,
        stream: false,
        payload,
    }
}

fn sids_with(set: &RuleSet, c: &PacketContext<'_>, flow: &mut FlowRuleState) -> Vec<u32> {
    let mut scratch = Scratch::default();
    let mut hits: Vec<Hit> = Vec::new();
    set.scan(c, flow, &mut scratch, &mut hits);
    let mut s: Vec<u32> = hits.iter().map(|h| h.sid).collect();
    s.sort_unstable();
    s
}

fn sids(set: &RuleSet, c: &PacketContext<'_>) -> Vec<u32> {
    sids_with(set, c, &mut FlowRuleState::default())
}

/// Whether one rule (with the header `alert tcp any any -> any any`) matches `payload`.
fn one(options: &str, payload: &[u8]) -> bool {
    let s = set(&format!(
        "alert tcp any any -> any any (msg:\"t\"; {options} sid:1;)"
    ));
    !sids(&s, &ctx(payload)).is_empty()
}

#[test]
fn content_plain_and_hex() {
    assert!(one(r#"content:"GET /";"#, b"GET /index.html"));
    assert!(!one(r#"content:"GET /";"#, b"POST /index.html"));
    assert!(one(r#"content:"|00 01|AB|ff|";"#, b"xx\x00\x01AB\xffyy"));
    assert!(!one(r#"content:"|00 01|AB|ff|";"#, b"xx\x00\x01AB\xfeyy"));
}

#[test]
fn nocase() {
    assert!(one(r#"content:"admin"; nocase;"#, b"user=ADMIN"));
    assert!(!one(r#"content:"admin";"#, b"user=ADMIN"));
    // The prefilter is case-insensitive, verification is not: a case-sensitive
    // content is not satisfied by another case.
    assert!(!one(r#"content:"Admin";"#, b"admin"));
}

#[test]
fn offset_and_depth() {
    // offset 4, depth 4: the match must lie in bytes 4..8.
    assert!(one(r#"content:"abcd"; offset:4; depth:4;"#, b"xxxxabcd"));
    assert!(!one(r#"content:"abcd"; offset:4; depth:4;"#, b"xxxxxabcd"));
    assert!(!one(r#"content:"abcd"; offset:4; depth:4;"#, b"xxxabcdx"));
    assert!(one(r#"content:"abcd"; depth:5;"#, b"xabcd"));
    assert!(!one(r#"content:"abcd"; depth:5;"#, b"xxabcd"));
    // Payload shorter than the offset.
    assert!(!one(r#"content:"ab"; offset:10;"#, b"ab"));
}

#[test]
fn distance_and_within_chains() {
    let rule = r#"content:"AAA"; content:"BBB"; distance:2; within:5;"#;
    // BBB must start at least 2 after AAA's end and end within 5 of (end + 2).
    assert!(one(rule, b"AAAxxBBB"));
    assert!(!one(rule, b"AAAxBBB"));
    assert!(one(rule, b"AAAxxxxBBB"));
    assert!(!one(rule, b"AAAxxxxxBBB"));
    // Negative distance: the second content may overlap the first.
    assert!(one(
        r#"content:"ABCD"; content:"CD"; distance:-2; within:2;"#,
        b"xABCDx"
    ));
    // A three-link chain.
    let chain = r#"content:"a="; content:"&b="; distance:0; within:10; content:"&c="; distance:0; within:10;"#;
    assert!(one(chain, b"a=1&b=2&c=3"));
    assert!(!one(chain, b"a=1&c=3&b=2"));
}

#[test]
fn relative_matches_backtrack() {
    // The first "a" is not followed by "b" within 1, the second is: Suricata retries
    // the earlier content at its next occurrence, and so do we.
    let rule = r#"content:"a"; content:"b"; distance:0; within:1;"#;
    assert!(one(rule, b"a xab"));
    assert!(!one(rule, b"a xa b"));
}

#[test]
fn negated_content() {
    assert!(one(
        r#"content:"GET"; content:!"Host";"#,
        b"GET / HTTP/1.0\r\n\r\n"
    ));
    assert!(!one(
        r#"content:"GET"; content:!"Host";"#,
        b"GET / HTTP/1.1\r\nHost: x\r\n"
    ));
    // Relative negation: "Host" must not follow within 20 bytes.
    let rule = r#"content:"GET"; content:!"Host"; distance:0; within:20;"#;
    assert!(one(rule, b"GET /aaaaaaaaaaaaaaaaaaaaaaaa Host"));
    assert!(!one(rule, b"GET / Host"));
}

#[test]
fn startswith_endswith_isdataat() {
    assert!(one(r#"content:"GET"; startswith;"#, b"GET /"));
    assert!(!one(r#"content:"GET"; startswith;"#, b" GET /"));
    assert!(one(r#"content:".exe"; endswith;"#, b"a.exe"));
    assert!(!one(r#"content:".exe"; endswith;"#, b"a.exe "));
    assert!(one(
        r#"content:"MZ"; isdataat:10,relative;"#,
        b"MZ0123456789A"
    ));
    // Relative: ten bytes after the match end; absolute: a byte at offset 10.
    assert!(one(
        r#"content:"MZ"; isdataat:10,relative;"#,
        b"MZ0123456789"
    ));
    assert!(!one(
        r#"content:"MZ"; isdataat:10,relative;"#,
        b"MZ012345678"
    ));
    assert!(one(r#"content:"MZ"; isdataat:10;"#, b"MZ012345678"));
    assert!(!one(r#"content:"MZ"; isdataat:10;"#, b"MZ01234567"));
    assert!(one(r#"content:"END"; isdataat:!1,relative;"#, b"xxEND"));
    assert!(!one(r#"content:"END"; isdataat:!1,relative;"#, b"xxENDx"));
}

#[test]
fn pcre_plain_and_relative() {
    assert!(one(r#"content:"id="; pcre:"/id=\d{4,}/";"#, b"?id=12345"));
    assert!(!one(r#"content:"id="; pcre:"/id=\d{4,}/";"#, b"?id=123"));
    assert!(one(r#"content:"x"; pcre:"/ADMIN/i";"#, b"x admin"));
    // R: `^` anchors at the end of the previous match.
    // (A `;` inside an option value is escaped, as in Suricata.)
    let rel = r#"content:"user="; pcre:"/^[a-z]+\;/R";"#;
    assert!(one(rel, b"user=bob;"));
    assert!(!one(rel, b"user=;bob;"));
    // Without R, `^` is the payload start.
    assert!(!one(
        r#"content:"user="; pcre:"/^[a-z]+\;/";"#,
        b"user=bob;"
    ));
    // A content relative to a pcre match.
    assert!(one(
        r#"content:"a"; pcre:"/b+/R"; content:"c"; distance:0; within:1;"#,
        b"abbbc"
    ));
    assert!(!one(
        r#"content:"a"; pcre:"/b+/R"; content:"c"; distance:0; within:1;"#,
        b"abbbxc"
    ));
    // Negated pcre.
    assert!(one(
        r#"content:"GET"; pcre:!"/HTTP\/1\.1/";"#,
        b"GET / HTTP/1.0"
    ));
    assert!(!one(
        r#"content:"GET"; pcre:!"/HTTP\/1\.1/";"#,
        b"GET / HTTP/1.1"
    ));
    // Bytes above 0x7f (Unicode off).
    assert!(one(
        r#"content:"|ff|"; pcre:"/\xff[\x80-\xfe]{2}/";"#,
        b"\xff\x80\x90"
    ));
    // A pcre-only rule has no fast pattern: header-only, still works.
    assert!(one(
        r#"pcre:"/^\x16\x03[\x00-\x03]/";"#,
        b"\x16\x03\x01\x02"
    ));
}

#[test]
fn flow_direction_and_state() {
    let s = set(concat!(
        "alert tcp any any -> any any (msg:\"ts\"; flow:to_server,established; content:\"x\"; sid:1;)\n",
        "alert tcp any any -> any any (msg:\"tc\"; flow:from_server; content:\"x\"; sid:2;)\n",
        "alert tcp any any -> any any (msg:\"ne\"; flow:not_established; content:\"x\"; sid:3;)\n",
        "alert tcp any any -> any any (msg:\"st\"; flow:stateless; content:\"x\"; sid:4;)\n",
        "alert tcp any any -> any any (msg:\"os\"; flow:only_stream; content:\"x\"; sid:5;)\n",
        "alert tcp any any -> any any (msg:\"ns\"; flow:no_stream; content:\"x\"; sid:6;)\n",
    ));
    let mut c = ctx(b"x");
    assert_eq!(sids(&s, &c), [1, 4, 6]);
    c.to_server = false;
    assert_eq!(sids(&s, &c), [2, 4, 6]);
    c.established = false;
    assert_eq!(sids(&s, &c), [2, 3, 4, 6]);
    c.stream = true;
    assert_eq!(sids(&s, &c), [2, 3, 4, 5]);
}

#[test]
fn dsize_forms() {
    let s = set(concat!(
        "alert tcp any any -> any any (msg:\"eq\"; dsize:3; sid:1;)\n",
        "alert tcp any any -> any any (msg:\"lt\"; dsize:<3; sid:2;)\n",
        "alert tcp any any -> any any (msg:\"gt\"; dsize:>3; sid:3;)\n",
        "alert tcp any any -> any any (msg:\"between\"; dsize:2<>5; sid:4;)\n",
        "alert tcp any any -> any any (msg:\"ne\"; dsize:!3; sid:5;)\n",
    ));
    assert_eq!(sids(&s, &ctx(b"ab")), [2, 5]);
    assert_eq!(sids(&s, &ctx(b"abc")), [1, 4]);
    assert_eq!(sids(&s, &ctx(b"abcd")), [3, 4, 5]);
    assert_eq!(sids(&s, &ctx(b"abcde")), [3, 5]);
    // dsize never matches a stream chunk.
    let mut c = ctx(b"abc");
    c.stream = true;
    assert_eq!(sids(&s, &c), Vec::<u32>::new());
}

#[test]
fn addresses_ports_negation_and_lists() {
    let s = set(concat!(
        "alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:\"out\"; content:\"x\"; sid:1;)\n",
        "alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:\"in\"; content:\"x\"; sid:2;)\n",
        "alert tcp any any -> any ![80,443] (msg:\"not web\"; content:\"x\"; sid:3;)\n",
        "alert tcp any [40000:40010,!40005] -> any any (msg:\"sports\"; content:\"x\"; sid:4;)\n",
        "alert tcp [192.168.1.0/24,!192.168.1.10] any -> any any (msg:\"net but one\"; content:\"x\"; sid:5;)\n",
        "alert tcp any any <> 203.0.113.5 80 (msg:\"bidir\"; content:\"x\"; sid:6;)\n",
        "alert tcp any any -> any $HTTP_PORTS (msg:\"http ports\"; content:\"x\"; sid:7;)\n",
        "alert udp any any -> any any (msg:\"udp\"; content:\"x\"; sid:8;)\n",
        "alert ip any any -> any any (msg:\"ip\"; content:\"x\"; sid:9;)\n",
    ));
    let c = ctx(b"x");
    assert_eq!(sids(&s, &c), [1, 4, 6, 7, 9]);
    // The reply: from the server's port 80 to the client.
    let reply = PacketContext {
        src: c.dst,
        dst: c.src,
        to_server: false,
        ..c
    };
    assert_eq!(sids(&s, &reply), [2, 3, 6, 9]);
    // Another client port, another client address.
    let other = PacketContext {
        src: (v4(192, 168, 1, 11), 40005),
        ..c
    };
    assert_eq!(sids(&s, &other), [1, 5, 6, 7, 9]);
    // UDP.
    let udp = PacketContext {
        proto: Transport::Udp,
        ..c
    };
    assert_eq!(sids(&s, &udp), [8, 9]);
    // IPv6 is neither HOME_NET nor matched by IPv4 networks, and is EXTERNAL_NET.
    let v6c = PacketContext {
        src: (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), 40000),
        dst: (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]), 80),
        ..c
    };
    assert_eq!(sids(&s, &v6c), [4, 7, 9]);
}

#[test]
fn app_protocol_means_transport_and_server_port() {
    let s = set(concat!(
        "alert modbus any any -> any any (msg:\"modbus\"; content:\"x\"; sid:1;)\n",
        "alert dnp3 any any -> any any (msg:\"dnp3\"; content:\"x\"; sid:2;)\n",
    ));
    let mut c = ctx(b"x");
    c.dst.1 = 502;
    assert_eq!(sids(&s, &c), [1]);
    // The reply comes from port 502: still Modbus (server port).
    let reply = PacketContext {
        src: c.dst,
        dst: c.src,
        to_server: false,
        ..c
    };
    assert_eq!(sids(&s, &reply), [1]);
    c.dst.1 = 20000;
    assert_eq!(sids(&s, &c), [2]);
    c.proto = Transport::Udp;
    assert_eq!(sids(&s, &c), [2]);
    c.dst.1 = 80;
    assert_eq!(sids(&s, &c), Vec::<u32>::new());
}

#[test]
fn flowbits_set_isset_unset_noalert() {
    let s = set(concat!(
        "alert tcp any any -> any any (msg:\"login\"; content:\"USER\"; flowbits:set,user; flowbits:noalert; sid:1;)\n",
        "alert tcp any any -> any any (msg:\"pass after user\"; content:\"PASS\"; flowbits:isset,user; sid:2;)\n",
        "alert tcp any any -> any any (msg:\"pass without user\"; content:\"PASS\"; flowbits:isnotset,user; sid:3;)\n",
        "alert tcp any any -> any any (msg:\"quit\"; content:\"QUIT\"; flowbits:unset,user; sid:4;)\n",
        "alert tcp any any -> any any (msg:\"either\"; content:\"PASS\"; flowbits:isset,user|admin; sid:5;)\n",
        "alert tcp any any -> any any (msg:\"both\"; content:\"PASS\"; flowbits:isset,user&admin; sid:6;)\n",
    ));
    let mut flow = FlowRuleState::default();
    assert_eq!(sids_with(&s, &ctx(b"PASS x"), &mut flow), [3]);
    assert_eq!(
        sids_with(&s, &ctx(b"USER bob"), &mut flow),
        Vec::<u32>::new(),
        "noalert"
    );
    assert!(!flow.is_empty());
    assert_eq!(sids_with(&s, &ctx(b"PASS x"), &mut flow), [2, 5]);
    assert_eq!(sids_with(&s, &ctx(b"QUIT"), &mut flow), [4]);
    assert_eq!(sids_with(&s, &ctx(b"PASS x"), &mut flow), [3]);
    // Set and test in the same payload: the setter runs first.
    let mut fresh = FlowRuleState::default();
    assert_eq!(sids_with(&s, &ctx(b"USER bob PASS x"), &mut fresh), [2, 5]);
    // Another flow has its own bits.
    assert_eq!(sids(&s, &ctx(b"PASS x")), [3]);
}

#[test]
fn hits_carry_rule_details() {
    let s = set(
        "alert tcp any any -> any any (msg:\"ET TEST \\\"quoted\\\"\"; content:\"x\"; classtype:trojan-activity; sid:77; rev:3; gid:1; reference:url,example.com; metadata:created_at 2024_01_01;)\n\
         alert tcp any any -> any any (msg:\"prio\"; content:\"x\"; classtype:trojan-activity; priority:4; sid:78;)\n",
    );
    let mut hits = Vec::new();
    s.scan(
        &ctx(b"x"),
        &mut FlowRuleState::default(),
        &mut Scratch::default(),
        &mut hits,
    );
    hits.sort_by_key(|h| h.sid);
    assert_eq!(hits.len(), 2);
    assert_eq!(
        (hits[0].sid, hits[0].rev, hits[0].gid, hits[0].priority),
        (77, 3, 1, 1)
    );
    assert_eq!(&*hits[0].msg, "ET TEST \"quoted\"");
    assert_eq!(hits[0].classtype.as_deref(), Some("trojan-activity"));
    assert_eq!(hits[1].priority, 4);
    let info = s.rule(hits[0].rule).unwrap();
    assert_eq!(info.references, ["url,example.com"]);
    assert_eq!(info.line, 1);
}

#[test]
fn many_rules_share_patterns_and_groups() {
    // 300 rules on three ports with overlapping contents: each hit exactly once.
    let mut text = String::new();
    for i in 0..300u32 {
        let port = [80, 8080, 502][i as usize % 3];
        text.push_str(&format!(
            "alert tcp any any -> any {port} (msg:\"r{i}\"; content:\"key{}\"; nocase; sid:{};)\n",
            i % 10,
            1000 + i
        ));
    }
    let s = set(&text);
    let mut c = ctx(b"xx KEY3 yy key3 key7");
    let got = sids(&s, &c);
    let want: Vec<u32> = (0..300u32)
        .filter(|i| i % 3 == 0 && (i % 10 == 3 || i % 10 == 7))
        .map(|i| 1000 + i)
        .collect();
    assert_eq!(got, want);
    c.dst.1 = 502;
    assert_eq!(sids(&s, &c).len(), want.len());
}

#[test]
fn port_groups_beyond_the_cap_and_a_large_any_group() {
    // 40 ports with their own rules (more than MAX_PORT_GROUPS) and enough any-port
    // rules that they are not copied into the port groups: both paths must find all.
    let mut text = String::new();
    for i in 0..40u32 {
        for j in 0..=i {
            text.push_str(&format!(
                "alert tcp any any -> any {} (msg:\"p\"; content:\"port{i}\"; sid:{};)\n",
                1000 + i,
                10_000 + i * 100 + j
            ));
        }
    }
    let any_rules = mamori_rules::engine::MERGE_ANY_LIMIT as u32 + 10;
    for k in 0..any_rules {
        text.push_str(&format!(
            "alert tcp any any -> any any (msg:\"a\"; content:\"any{k}z\"; sid:{};)\n",
            100_000 + k
        ));
    }
    let s = set(&text);
    for (port, i) in [(1039u16, 39u32), (1000, 0)] {
        let payload = format!("port{i} any7z");
        let mut c = ctx(payload.as_bytes());
        c.dst.1 = port;
        let got = sids(&s, &c);
        let mut want: Vec<u32> = (0..=i).map(|j| 10_000 + i * 100 + j).collect();
        want.push(100_007);
        assert_eq!(got, want, "port {port}");
    }
}

#[test]
fn rule_set_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<RuleSet>();
    check::<FlowRuleState>();
    check::<Scratch>();
}

// --- The OT rule file.

fn ot_rules() -> RuleSet {
    let text = include_str!("../../../rules/mamori-ot.rules");
    let loaded = parse_rules(text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let s = RuleSet::compile(loaded.rules, &Vars::default());
    assert!(s.skipped().is_empty(), "{:?}", s.skipped());
    s
}

#[test]
fn ot_rules_load_with_nothing_skipped() {
    let s = ot_rules();
    assert!(s.len() >= 20, "{} rules", s.len());
    let stop = (0..s.len() as u32)
        .filter_map(|i| s.rule(i))
        .find(|r| r.sid == 9000010)
        .unwrap();
    assert_eq!(stop.metadata_value("mitre_ics"), Some("T0858"));
    assert_eq!(stop.metadata_value("protocol"), Some("s7comm"));
    assert_eq!(stop.metadata_value("nothing"), None);
    for i in 0..s.len() as u32 {
        let r = s.rule(i).unwrap();
        assert!((9_000_000..10_000_000).contains(&r.sid), "sid {}", r.sid);
        assert!(
            mamori_rules::classtype::priority(r.classtype.as_deref().unwrap()).is_some(),
            "classtype of {}",
            r.sid
        );
    }
}

fn plant(proto: Transport, sport: u16, dport: u16, payload: &[u8]) -> PacketContext<'_> {
    PacketContext {
        proto,
        src: (v4(10, 0, 1, 5), sport),
        dst: (v4(10, 0, 1, 10), dport),
        to_server: true,
        established: true,
        stream: false,
        payload,
    }
}

#[test]
fn ot_rules_on_hand_built_pdus() {
    let s = ot_rules();
    // S7comm PLC stop (iti_step7_s300_stop.pcapng frame 1).
    let s7_stop = [
        0x03, 0x00, 0x00, 0x21, // TPKT version 3, length 33
        0x02, 0xf0, 0x80, // COTP DT, last unit
        0x32, 0x01, 0x00, 0x00, // S7 protocol id, ROSCTR job, reserved
        0x35, 0x00, // PDU reference
        0x00, 0x10, 0x00, 0x00, // parameter length 16, data length 0
        0x29, // function 0x29 PLC stop
        0x00, 0x00, 0x00, 0x00, 0x00, 0x09, b'P', b'_', b'P', b'R', b'O', b'G', b'R', b'A', b'M',
    ];
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 49161, 102, &s7_stop)),
        [9000010]
    );
    // The same job with function 0x04 (read var) raises nothing.
    let mut read = s7_stop;
    read[17] = 0x04;
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 49161, 102, &read)),
        Vec::<u32>::new()
    );

    // CIP Stop over SendUnitData (iti_cip_stop_plc.pcap frame 1).
    let cip_stop = [
        0x70, 0x00, 0x1c, 0x00, // SendUnitData, length 28
        0x01, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, // session, status
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // options, interface handle
        0x01, 0x00, 0x02, 0x00, // timeout, item count 2
        0xa1, 0x00, 0x04, 0x00, 0x22, 0x40, 0x95, 0xff, // connected address item
        0xb1, 0x00, 0x08, 0x00, 0x06, 0x01, // connected data item, length 8, sequence
        0x07, 0x02, 0x20, 0x8e, 0x24, 0x01, // Stop, path class 0x8e instance 1
    ];
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 49271, 44818, &cip_stop)),
        [9000020]
    );

    // DNP3 cold restart (iti_cold_restart_and_response.pcap).
    let dnp3_cold = [
        0x05, 0x64, 0x08, 0xc4, 0x0a, 0x00, 0x01, 0x00, 0xfc, 0x42, // link header + CRC
        0xc0, // transport: FIR FIN
        0xc0, // application control
        0x0d, // function 13 cold restart
        0x9c, 0x86, // CRC
    ];
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 49423, 20000, &dnp3_cold)),
        [9000030]
    );
    assert_eq!(
        sids(&s, &plant(Transport::Udp, 49423, 20000, &dnp3_cold)),
        [9000030]
    );

    // Modbus force listen only, and a write from outside.
    let listen_only = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x08, 0x00, 0x04, 0x00, 0x00,
    ];
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 50000, 502, &listen_only)),
        [9000001, 9000003]
    );
    let write = [
        0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0x01, 0x06, 0x00, 0x10, 0x00, 0x2a,
    ];
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 50000, 502, &write)),
        Vec::<u32>::new()
    );
    let outside = PacketContext {
        src: (v4(198, 51, 100, 9), 50000),
        ..plant(Transport::Tcp, 50000, 502, &write)
    };
    assert_eq!(sids(&s, &outside), [9000004]);

    // IEC 104 single command (type 45) from outside.
    let c_sc = [
        0x68, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x01, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x01,
    ];
    let from_outside = PacketContext {
        src: (v4(198, 51, 100, 9), 50000),
        ..plant(Transport::Tcp, 50000, 2404, &c_sc)
    };
    assert_eq!(sids(&s, &from_outside), [9000040]);
    assert_eq!(
        sids(&s, &plant(Transport::Tcp, 50000, 2404, &c_sc)),
        Vec::<u32>::new()
    );

    // FTP: USER then PASS on one flow.
    let mut flow = FlowRuleState::default();
    assert_eq!(
        sids_with(
            &s,
            &plant(Transport::Tcp, 50000, 21, b"USER admin\r\n"),
            &mut flow
        ),
        Vec::<u32>::new()
    );
    assert_eq!(
        sids_with(
            &s,
            &plant(Transport::Tcp, 50000, 21, b"PASS admin\r\n"),
            &mut flow
        ),
        [9000051]
    );

    // Stuxnet C2 domain.
    let dns = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x0ctodaysfutbol\x03com\x00\x00\x01\x00\x01";
    let q = PacketContext {
        src: (v4(10, 0, 1, 5), 50000),
        dst: (v4(8, 8, 8, 8), 53),
        ..plant(Transport::Udp, 0, 0, dns)
    };
    assert_eq!(sids(&s, &q), [9000060]);
}
