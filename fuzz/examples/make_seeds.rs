//! Writes the seed corpus: real txs this fuzz chain executes (sends in each denom, several
//! messages, a memo, a two-denom fee, an upper-case address) and the reshapings issue 13 names.
//! `cargo run --example make_seeds` from fuzz/; the files are committed under fuzz/seeds/.

use stoa_fuzz::{bob, msg_send, plain_send, signed_tx, Spec};

fn main() -> std::io::Result<()> {
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    seeds.push(("send", plain_send(0, 1_000)));
    seeds.push(("send_seq1", plain_send(1, 5)));
    let bob = bob().to_string();
    let two = |d1: &str, d2: &str| {
        vec![
            (d1.to_string(), "3".to_string()),
            (d2.to_string(), "4".to_string()),
        ]
    };
    seeds.push((
        "multi",
        signed_tx(&Spec {
            msgs: vec![
                msg_send(&bob, &two("ucomp", "ustor")),
                msg_send(&bob.to_uppercase(), &[("uusdc".into(), "9".into())]),
            ],
            fee: vec![
                ("ucomp".into(), "200".into()),
                ("ustor".into(), "200".into()),
            ],
            gas_limit: 300_000,
            memo: "seed".into(),
            timeout_height: 100,
            ..Default::default()
        }),
    ));
    let send = plain_send(0, 7);
    let mut appended = send.clone();
    appended.extend_from_slice(&[0x22, 1, 0]);
    seeds.push(("reshaped_appended", appended));
    let mut duplicated = vec![0x0a, 1, 0];
    duplicated.extend_from_slice(&send);
    seeds.push(("reshaped_duplicated", duplicated));
    for dir in ["seeds/decode_tx", "seeds/check_raw"] {
        std::fs::create_dir_all(dir)?;
        for (name, bytes) in &seeds {
            std::fs::write(format!("{dir}/{name}"), bytes)?;
        }
    }
    Ok(())
}
