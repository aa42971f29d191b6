//! Key derivation and signing against published vectors: BIP39/BIP32 on the Cosmos path
//! (the "abandon ... about" mnemonic) and SLIP-0010 ed25519 test vectors 1 and 2.

use stoa_cmd::hd::{
    derive_ed25519_node, derive_secp256k1, seed_from_mnemonic, slip10_master, SECP256K1_PATH,
};
use stoa_cmd::keyring::{Algo, PrivKey};
use stoa_framework::Address;

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn bip39_seed_of_the_abandon_mnemonic() {
    // BIP39 with the empty passphrase (the TREZOR vectors use "TREZOR"; this is the empty one).
    let seed = seed_from_mnemonic(ABANDON).unwrap();
    assert_eq!(
        hex::encode(seed),
        "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
    );
}

#[test]
fn secp256k1_cosmos_vector() {
    let key = PrivKey::from_mnemonic(Algo::Secp256k1, ABANDON).unwrap();
    let (_, bytes) = bech32::decode("cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4").unwrap();
    assert_eq!(key.address(), Address::from_slice(&bytes).unwrap());
    assert_eq!(key.public_key().len(), 33);
    // The same through the lower-level API.
    let seed = seed_from_mnemonic(ABANDON).unwrap();
    assert_eq!(
        hex::encode(derive_secp256k1(&seed, SECP256K1_PATH).unwrap()),
        key.secret_hex()
    );
}

#[test]
fn slip10_ed25519_vector_1() {
    let seed = h("000102030405060708090a0b0c0d0e0f");
    let cases = [
        (
            "m",
            "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb",
            "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7",
        ),
        (
            "m/0'",
            "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69",
            "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
        ),
        (
            "m/0'/1'",
            "a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14",
            "b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
        ),
        (
            "m/0'/1'/2'",
            "2e69929e00b5ab250f49c3fb1c12f252de4fed2c1db88387094a0f8c4c9ccd6c",
            "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9",
        ),
        (
            "m/0'/1'/2'/2'",
            "8f6d87f93d750e0efccda017d662a1b31a266e4a6f5993b15f5c1f07f74dd5cc",
            "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662",
        ),
        (
            "m/0'/1'/2'/2'/1000000000'",
            "68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230",
            "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793",
        ),
    ];
    for (path, chain, private) in cases {
        let node = derive_ed25519_node(&seed, path).unwrap();
        assert_eq!(hex::encode(node.chain_code), chain, "chain code of {path}");
        assert_eq!(
            hex::encode(node.private_key),
            private,
            "private key of {path}"
        );
    }
    // The vector's master public key (SLIP-0010 prints it with a 00 prefix).
    let master = slip10_master(&seed);
    let key = PrivKey::from_bytes(Algo::Ed25519, master.private_key).unwrap();
    assert_eq!(
        hex::encode(key.public_key()),
        "a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed"
    );
}

#[test]
fn slip10_ed25519_vector_2() {
    let seed = h("fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542");
    let cases = [
        (
            "m",
            "ef70a74db9c3a5af931b5fe73ed8e1a53464133654fd55e7a66f8570b8e33c3b",
            "171cb88b1b3c1db25add599712e36245d75bc65a1a5c9e18d76f9f2b1eab4012",
        ),
        (
            "m/0H",
            "0b78a3226f915c082bf118f83618a618ab6dec793752624cbeb622acb562862d",
            "1559eb2bbec5790b0c65d8693e4d0875b1747f4970ae8b650486ed7470845635",
        ),
        (
            "m/0H/2147483647H",
            "138f0b2551bcafeca6ff2aa88ba8ed0ed8de070841f0c4ef0165df8181eaad7f",
            "ea4f5bfe8694d8bb74b7b59404632fd5968b774ed545e810de9c32a4fb4192f4",
        ),
        (
            "m/0H/2147483647H/1H",
            "73bd9fff1cfbde33a1b846c27085f711c0fe2d66fd32e139d3ebc28e5a4a6b90",
            "3757c7577170179c7868353ada796c839135b3d30554bbb74a4b1e4a5a58505c",
        ),
        (
            "m/0H/2147483647H/1H/2147483646H",
            "0902fe8a29f9140480a00ef244bd183e8a13288e4412d8389d140aac1794825a",
            "5837736c89570de861ebc173b1086da4f505d4adb387c6a1b1342d5e4ac9ec72",
        ),
        (
            "m/0H/2147483647H/1H/2147483646H/2H",
            "5d70af781f3a37b829f0d060924d5e960bdc02e85423494afc0b1a41bbe196d4",
            "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d",
        ),
    ];
    for (path, chain, private) in cases {
        let node = derive_ed25519_node(&seed, path).unwrap();
        assert_eq!(hex::encode(node.chain_code), chain, "chain code of {path}");
        assert_eq!(
            hex::encode(node.private_key),
            private,
            "private key of {path}"
        );
    }
}

#[test]
fn ed25519_paths_must_be_hardened() {
    let seed = [0u8; 64];
    assert!(derive_ed25519_node(&seed, "m/44'/118'/0'/0/0").is_err());
    assert!(derive_ed25519_node(&seed, "44'/118'").is_err());
}

#[test]
fn ed25519_address_is_sha256_prefix_and_signatures_verify() {
    use ed25519_dalek::Verifier;
    use sha2::{Digest, Sha256};
    let key = PrivKey::from_mnemonic(Algo::Ed25519, ABANDON).unwrap();
    let pk = key.public_key();
    assert_eq!(&key.address().0[..], &Sha256::digest(&pk)[..20]);
    let sig = key.sign(b"sign doc bytes").unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk.clone().try_into().unwrap()).unwrap();
    vk.verify(
        b"sign doc bytes",
        &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
    )
    .unwrap();
}

#[test]
fn secp256k1_signatures_are_low_s_and_verify() {
    use k256::ecdsa::signature::Verifier;
    let key = PrivKey::from_mnemonic(Algo::Secp256k1, ABANDON).unwrap();
    let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_key()).unwrap();
    for i in 0..20u8 {
        let msg = [i; 40];
        let sig = key.sign(&msg).unwrap();
        assert_eq!(sig.len(), 64);
        let s = k256::ecdsa::Signature::from_slice(&sig).unwrap();
        assert!(s.normalize_s().is_none(), "signature must already be low-s");
        vk.verify(&msg, &s).unwrap();
    }
}
