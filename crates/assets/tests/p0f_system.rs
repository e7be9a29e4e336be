//! p0f's own database, read at run time where p0f is installed (Debian package
//! `p0f`, `/etc/p0f/p0f.fp`): it parses without errors and identifies common stacks.
//! Skips when the file is absent.

use mamori_assets::ledger::P0F_PATH;
use mamori_assets::p0f::{P0fDb, TcpSignature};
use mamori_flow::Uid;
use mamori_pipeline::event::TcpSynEvent;

fn syn(ttl: u8, window: u16, opts: &[u8]) -> TcpSynEvent {
    let mut options = [0u8; 40];
    options[..opts.len()].copy_from_slice(opts);
    TcpSynEvent {
        ts: 0,
        uid: Uid(1),
        ip: "192.0.2.1".parse().expect("ip"),
        mac: None,
        syn_ack: false,
        ttl,
        df: true,
        ip_id: 0x1234,
        ip_opt_len: 0,
        ecn: 0,
        flow_label: 0,
        window,
        flags: 0x02,
        seq: 1,
        ack: 0,
        urgent: 0,
        options,
        options_len: opts.len() as u8,
        payload_len: 0,
    }
}

#[test]
fn p0f_database_parses_and_matches() {
    let Ok(text) = std::fs::read_to_string(P0F_PATH) else {
        eprintln!("skip: {P0F_PATH} is absent (apt-get install p0f)");
        return;
    };
    let mut db = P0fDb::default();
    let errors = db.parse(&text, "p0f.fp");
    assert!(errors.is_empty(), "{errors:?}");
    let (req, resp) = db.len();
    eprintln!("{P0F_PATH}: {req} SYN and {resp} SYN+ACK signatures");
    assert!(req > 50 && resp > 10);
    // Linux: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7, window mss*20.
    let linux = TcpSignature::from_event(&syn(
        64,
        29200,
        &[
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
        ],
    ));
    let m = db.matches(&linux).expect("p0f knows Linux");
    assert!(m.os.starts_with("Linux"), "{m:?}");
    // Windows 7/8: window 8192, MSS, NOP, WS 8, NOP, NOP, SACK-permitted.
    let win = TcpSignature::from_event(&syn(128, 8192, &[2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]));
    let m = db.matches(&win).expect("p0f knows Windows");
    assert!(m.os.starts_with("Windows"), "{m:?}");
}
