//! Public keys and signature checks of `stoa_framework::crypto`: both schemes accept their own
//! signatures and refuse others, the batch names exactly the bad signatures, keys round-trip
//! through `Any`, and addresses match Cosmos SDK's derivation.

use ed25519_dalek::Signer as _;
use proptest::prelude::*;
use stoa_framework::crypto::{
    verify, verify_batch, verify_ed25519, verify_secp256k1, PubKey, SigJob, ED25519_BATCH,
};
use stoa_framework::{sdk, Any};

fn secp_key(seed: u8) -> (k256::ecdsa::SigningKey, PubKey) {
    let sk = k256::ecdsa::SigningKey::from_slice(&[seed.max(1); 32]).unwrap();
    let pk: [u8; 33] = sk
        .verifying_key()
        .to_encoded_point(true)
        .as_bytes()
        .try_into()
        .unwrap();
    (sk, PubKey::Secp256k1(pk))
}

/// A low-s signature, as Cosmos wallets produce.
fn secp_sign(sk: &k256::ecdsa::SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: k256::ecdsa::Signature = sk.sign(msg);
    sig.normalize_s().unwrap_or(sig).to_bytes().to_vec()
}

fn ed_key(seed: u8) -> (ed25519_dalek::SigningKey, PubKey) {
    let sk = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let pk = PubKey::Ed25519(sk.verifying_key().to_bytes());
    (sk, pk)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn secp256k1_accepts_its_signature_and_refuses_others() {
    let (sk, pk) = secp_key(7);
    let PubKey::Secp256k1(raw) = pk else {
        unreachable!()
    };
    let sig = secp_sign(&sk, b"hello");
    assert!(verify_secp256k1(&raw, b"hello", &sig));
    assert!(verify(&pk, b"hello", &sig));
    assert!(pk.verify(b"hello", &sig));
    assert!(!pk.verify(b"hellp", &sig), "other message");
    let (_, other) = secp_key(8);
    assert!(!other.verify(b"hello", &sig), "other key");
    let mut flipped = sig.clone();
    flipped[40] ^= 1;
    assert!(!pk.verify(b"hello", &flipped));
    assert!(!pk.verify(b"hello", &sig[..63]), "short signature");
    assert!(!pk.verify(b"hello", &[sig.clone(), vec![0]].concat()));
    assert!(!pk.verify(b"hello", &[0u8; 64]));
    // Not a point on the curve.
    assert!(!PubKey::Secp256k1([2; 33]).verify(b"hello", &sig));
    assert!(!PubKey::Secp256k1([0; 33]).verify(b"hello", &sig));
}

#[test]
fn secp256k1_refuses_the_high_s_twin() {
    let (sk, pk) = secp_key(7);
    let sig = k256::ecdsa::Signature::from_slice(&secp_sign(&sk, b"hello")).unwrap();
    let (r, s) = sig.split_scalars();
    let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    // The twin verifies under plain ECDSA (the mirrored s), so only the low-s rule refuses it.
    assert!(high.normalize_s().is_some());
    assert_eq!(high.normalize_s().unwrap(), sig);
    assert!(!pk.verify(b"hello", &high.to_bytes()));
}

#[test]
fn ed25519_accepts_its_signature_and_refuses_others() {
    let (sk, pk) = ed_key(9);
    let PubKey::Ed25519(raw) = pk else {
        unreachable!()
    };
    let sig = sk.sign(b"hello").to_bytes();
    assert!(verify_ed25519(&raw, b"hello", &sig));
    assert!(pk.verify(b"hello", &sig));
    assert!(!pk.verify(b"hellp", &sig), "other message");
    assert!(!ed_key(10).1.verify(b"hello", &sig), "other key");
    let mut flipped = sig;
    flipped[3] ^= 1;
    assert!(!pk.verify(b"hello", &flipped));
    assert!(!pk.verify(b"hello", &sig[..63]), "short signature");
    assert!(!pk.verify(b"hello", &[0u8; 64]));
    // An s at or above the group order is never valid.
    let mut big_s = sig;
    big_s[63] |= 0xf0;
    assert!(!pk.verify(b"hello", &big_s));
    // A key of the wrong scheme for the signature.
    let (_, spk) = secp_key(9);
    assert!(!spk.verify(b"hello", &sig));
}

#[test]
fn the_batch_names_exactly_the_bad_signature() {
    let (esk, epk) = ed_key(9);
    let (ssk, spk) = secp_key(7);
    let msgs: Vec<Vec<u8>> = (0..150u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let mut sigs: Vec<Vec<u8>> = msgs
        .iter()
        .map(|m| esk.sign(m).to_bytes().to_vec())
        .collect();
    sigs[70][0] ^= 1;
    let ssig = secp_sign(&ssk, b"hello");
    let mut jobs: Vec<SigJob> = msgs
        .iter()
        .zip(&sigs)
        .map(|(m, s)| SigJob {
            pub_key: &epk,
            msg: m,
            sig: s,
        })
        .collect();
    jobs.push(SigJob {
        pub_key: &spk,
        msg: b"hello",
        sig: &ssig,
    });
    jobs.push(SigJob {
        pub_key: &spk,
        msg: b"nope",
        sig: &ssig,
    });
    let v = verify_batch(&jobs);
    assert_eq!(v.len(), 152);
    let bad: Vec<usize> = (0..v.len()).filter(|i| !v[*i]).collect();
    assert_eq!(bad, vec![70, 151]);
    assert!(verify_batch(&[]).is_empty());
}

#[test]
fn a_malformed_signature_in_a_batch_fails_only_itself() {
    let (esk, epk) = ed_key(3);
    let msgs: Vec<Vec<u8>> = (0..ED25519_BATCH as u32 + 5)
        .map(|i| i.to_le_bytes().to_vec())
        .collect();
    let mut sigs: Vec<Vec<u8>> = msgs
        .iter()
        .map(|m| esk.sign(m).to_bytes().to_vec())
        .collect();
    sigs[2].truncate(10);
    let jobs: Vec<SigJob> = msgs
        .iter()
        .zip(&sigs)
        .map(|(m, s)| SigJob {
            pub_key: &epk,
            msg: m,
            sig: s,
        })
        .collect();
    let v = verify_batch(&jobs);
    let bad: Vec<usize> = (0..v.len()).filter(|i| !v[*i]).collect();
    assert_eq!(bad, vec![2]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The batch's verdicts are the one-off verdicts, in order, whatever the mix of schemes
    /// and whichever signatures are spoiled.
    #[test]
    fn batch_verdicts_are_the_one_off_verdicts(
        jobs in prop::collection::vec((any::<bool>(), any::<u8>(), any::<bool>()), 0..150)
    ) {
        let (esk, epk) = ed_key(5);
        let (ssk, spk) = secp_key(6);
        let built: Vec<(PubKey, Vec<u8>, Vec<u8>)> = jobs
            .iter()
            .enumerate()
            .map(|(i, (ed, byte, spoil))| {
                let msg = vec![*byte, i as u8];
                let (pk, mut sig) = if *ed {
                    (epk.clone(), esk.sign(&msg).to_bytes().to_vec())
                } else {
                    (spk.clone(), secp_sign(&ssk, &msg))
                };
                if *spoil {
                    sig[(*byte as usize) % 64] ^= 0x40;
                }
                (pk, msg, sig)
            })
            .collect();
        let sig_jobs: Vec<SigJob> = built
            .iter()
            .map(|(pk, m, s)| SigJob { pub_key: pk, msg: m, sig: s })
            .collect();
        let got = verify_batch(&sig_jobs);
        let want: Vec<bool> = built.iter().map(|(pk, m, s)| verify(pk, m, s)).collect();
        prop_assert_eq!(&got, &want);
        let spoiled: Vec<bool> = jobs.iter().map(|(_, _, spoil)| !*spoil).collect();
        prop_assert_eq!(got, spoiled);
    }
}

#[test]
fn addresses_are_cosmos_sdk_addresses() {
    // cosmjs' secp256k1 vector: AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP.
    let key: [u8; 33] = unhex("02d41a0aa167b21699429eab224bc03f2cd386f0af5d20cefbd0336f1544aea24f")
        .try_into()
        .unwrap();
    let (_, want) = bech32::decode("cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r").unwrap();
    assert_eq!(PubKey::Secp256k1(key).address().as_bytes().to_vec(), want);

    // Tendermint's ed25519 address: the first 20 bytes of sha256 of the key.
    let key: [u8; 32] = unhex("e0c4396a2138cecd48aa42d4dc2d2f587518859720e34017e24ff096c81c2c26")
        .try_into()
        .unwrap();
    assert_eq!(
        PubKey::Ed25519(key).address().as_bytes().to_vec(),
        unhex("1ad4a13d8239fb9c6917df0c52dace3dc3d9c046")
    );
}

#[test]
fn keys_round_trip_through_any() {
    for pk in [secp_key(1).1, ed_key(1).1] {
        let any = pk.to_any();
        assert_eq!(PubKey::from_any(&any).unwrap(), pk);
        assert_eq!(PubKey::from_parts(&any.type_url, &any.value).unwrap(), pk);
    }
    let bad = |type_url: &str, value: Vec<u8>| {
        let err = PubKey::from_any(&Any {
            type_url: type_url.into(),
            value,
        })
        .unwrap_err();
        assert!(sdk::INVALID_PUBKEY.is(&err), "{err}");
    };
    bad("/cosmos.crypto.multisig.LegacyAminoPubKey", vec![]);
    // A secp256k1 key of 32 bytes, an ed25519 key of 33.
    bad(
        stoa_framework::crypto::SECP256K1_PUBKEY_URL,
        PubKey::Ed25519([1; 32]).to_any().value,
    );
    bad(
        stoa_framework::crypto::ED25519_PUBKEY_URL,
        PubKey::Secp256k1([2; 33]).to_any().value,
    );
    bad(stoa_framework::crypto::ED25519_PUBKEY_URL, vec![0xff]);
}
