//! Signature checks for account keys: secp256k1 (ECDSA over sha256 of the sign bytes, 64-byte
//! r||s, low-s only, as Cosmos SDK) and ed25519 (over the raw sign bytes). A block's signatures
//! are verified together: secp256k1 in parallel with rayon, ed25519 in batches in parallel.

use ed25519_dalek::Verifier as _;
use rayon::prelude::*;
use stoa_bank::PubKey;

/// ed25519 signatures per batch. The chunks are cut by position in the block, never by thread
/// count, so a block gets the same verdicts on every machine (batch and single verification of
/// dalek disagree on some malformed signatures: the verdict must not depend on the grouping a
/// machine happened to choose).
pub const ED25519_BATCH: usize = 64;

/// One signature to check.
pub struct SigJob<'a> {
    pub pub_key: &'a PubKey,
    pub msg: &'a [u8],
    pub sig: &'a [u8],
}

pub fn verify_secp256k1(key: &[u8; 33], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = k256::ecdsa::VerifyingKey::from_sec1_bytes(key) else {
        return false;
    };
    let Ok(sig) = k256::ecdsa::Signature::from_slice(sig) else {
        return false;
    };
    // Cosmos SDK rejects high-s signatures: each signature has exactly one valid form.
    if sig.normalize_s().is_some() {
        return false;
    }
    vk.verify(msg, &sig).is_ok()
}

pub fn verify_ed25519(key: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify(msg, &sig).is_ok()
}

pub fn verify_one(pub_key: &PubKey, msg: &[u8], sig: &[u8]) -> bool {
    match pub_key {
        PubKey::Secp256k1(k) => verify_secp256k1(k, msg, sig),
        PubKey::Ed25519(k) => verify_ed25519(k, msg, sig),
    }
}

/// Verdicts for all jobs, in order, computed in parallel.
pub fn verify_all(jobs: &[SigJob<'_>]) -> Vec<bool> {
    let mut out = vec![false; jobs.len()];
    let ed: Vec<usize> = (0..jobs.len())
        .filter(|i| matches!(jobs[*i].pub_key, PubKey::Ed25519(_)))
        .collect();
    let secp: Vec<usize> = (0..jobs.len())
        .filter(|i| matches!(jobs[*i].pub_key, PubKey::Secp256k1(_)))
        .collect();

    let secp_verdicts: Vec<bool> = secp
        .par_iter()
        .map(|i| verify_one(jobs[*i].pub_key, jobs[*i].msg, jobs[*i].sig))
        .collect();
    for (i, ok) in secp.iter().zip(secp_verdicts) {
        out[*i] = ok;
    }

    let ed_verdicts: Vec<Vec<bool>> = ed
        .par_chunks(ED25519_BATCH)
        .map(|chunk| verify_ed25519_batch(jobs, chunk))
        .collect();
    for (i, ok) in ed.iter().zip(ed_verdicts.into_iter().flatten()) {
        out[*i] = ok;
    }
    out
}

/// Batch-verifies one chunk; when the batch fails, each signature is checked alone to find the
/// bad ones.
fn verify_ed25519_batch(jobs: &[SigJob<'_>], chunk: &[usize]) -> Vec<bool> {
    let mut keys = Vec::with_capacity(chunk.len());
    let mut sigs = Vec::with_capacity(chunk.len());
    let mut msgs = Vec::with_capacity(chunk.len());
    let mut parsed = true;
    for i in chunk {
        let job = &jobs[*i];
        let PubKey::Ed25519(k) = job.pub_key else {
            parsed = false;
            break;
        };
        match (
            ed25519_dalek::VerifyingKey::from_bytes(k),
            ed25519_dalek::Signature::from_slice(job.sig),
        ) {
            (Ok(k), Ok(s)) => {
                keys.push(k);
                sigs.push(s);
                msgs.push(job.msg);
            }
            _ => {
                parsed = false;
                break;
            }
        }
    }
    if parsed && ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
        return vec![true; chunk.len()];
    }
    chunk
        .iter()
        .map(|i| verify_one(jobs[*i].pub_key, jobs[*i].msg, jobs[*i].sig))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    #[test]
    fn secp_and_ed_verify_and_reject() {
        let sk = k256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let pk: [u8; 33] = sk
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap();
        let sig: k256::ecdsa::Signature = sk.sign(b"hello");
        let sig = sig.normalize_s().unwrap_or(sig);
        assert!(verify_secp256k1(&pk, b"hello", &sig.to_bytes()));
        assert!(!verify_secp256k1(&pk, b"hellp", &sig.to_bytes()));
        // The high-s twin of a valid signature is rejected.
        let (r, s) = sig.split_scalars();
        let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        assert!(!verify_secp256k1(&pk, b"hello", &high.to_bytes()));

        let esk = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let epk = PubKey::Ed25519(esk.verifying_key().to_bytes());
        let spk = PubKey::Secp256k1(pk);
        let msgs: Vec<Vec<u8>> = (0..150u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let mut sigs: Vec<Vec<u8>> = msgs
            .iter()
            .map(|m| esk.sign(m).to_bytes().to_vec())
            .collect();
        sigs[70][0] ^= 1;
        let ssig = sig.to_bytes().to_vec();
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
        let v = verify_all(&jobs);
        assert_eq!(v.len(), 152);
        assert!(!v[70]);
        assert_eq!(v.iter().filter(|b| !**b).count(), 2);
        assert!(v[150] && !v[151]);
    }
}
