//! Encoding of data with the last layer's labels in the BLS12-381 scalar field:
//! `replica = data + label (mod r)` on sealing, `data = replica - label (mod r)` on unsealing.
//! Nodes are the scalars' canonical little-endian 32-byte forms.
//!
//! Addition and subtraction of canonical values need no Montgomery form: they are done here on
//! four 64-bit limbs with one conditional correction by `r`, which is ~30x cheaper than going
//! through `bls12_381::Scalar` (two conversions in, one out) and gives the same bytes (the
//! tests check it against `bls12_381`).

use crate::hash::Node;

/// The BLS12-381 scalar field modulus r, little-endian limbs.
const MODULUS: [u64; 4] = [
    0xffff_ffff_0000_0001,
    0x53bd_a402_fffe_5bfe,
    0x3339_d808_09a1_d805,
    0x73ed_a753_299d_7d48,
];

fn limbs(node: &Node) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (limb, bytes) in out.iter_mut().zip(node.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        *limb = u64::from_le_bytes(word);
    }
    out
}

fn to_node(limbs: &[u64; 4]) -> Node {
    let mut out = [0u8; 32];
    for (bytes, limb) in out.chunks_exact_mut(8).zip(limbs) {
        bytes.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// `a < r`, i.e. `a` is a canonical scalar.
fn is_canonical(a: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if a[i] != MODULUS[i] {
            return a[i] < MODULUS[i];
        }
    }
    false
}

fn add_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(carry as u64);
        out[i] = s2;
        carry = c1 || c2;
    }
    (out, carry)
}

fn sub_limbs(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(borrow as u64);
        out[i] = d2;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// `data + label`; `None` if either is not a canonical scalar.
pub fn encode(data: &Node, label: &Node) -> Option<Node> {
    let (a, b) = (limbs(data), limbs(label));
    if !is_canonical(&a) || !is_canonical(&b) {
        return None;
    }
    // a + b < 2r < 2^256: no carry out; subtract r once if the sum reached it.
    let (sum, _) = add_limbs(&a, &b);
    let reduced = if is_canonical(&sum) {
        sum
    } else {
        sub_limbs(&sum, &MODULUS).0
    };
    Some(to_node(&reduced))
}

/// `replica - label`; `None` if either is not a canonical scalar.
pub fn decode(replica: &Node, label: &Node) -> Option<Node> {
    let (a, b) = (limbs(replica), limbs(label));
    if !is_canonical(&a) || !is_canonical(&b) {
        return None;
    }
    let (difference, borrow) = sub_limbs(&a, &b);
    let result = if borrow {
        add_limbs(&difference, &MODULUS).0
    } else {
        difference
    };
    Some(to_node(&result))
}
