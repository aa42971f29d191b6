//! Encoding of data with the last layer's labels in the BLS12-381 scalar field:
//! `replica = data + label` on sealing, `data = replica - label` on unsealing. Nodes are the
//! scalars' canonical little-endian 32-byte forms.

use crate::hash::Node;
use bls12_381::Scalar;

fn scalar(node: &Node) -> Option<Scalar> {
    Option::from(Scalar::from_bytes(node))
}

/// `data + label`; `None` if either is not a canonical scalar.
pub fn encode(data: &Node, label: &Node) -> Option<Node> {
    Some((scalar(data)? + scalar(label)?).to_bytes())
}

/// `replica - label`; `None` if either is not a canonical scalar.
pub fn decode(replica: &Node, label: &Node) -> Option<Node> {
    Some((scalar(replica)? - scalar(label)?).to_bytes())
}
