//! Opaque bearer secrets (invitation links, personal access tokens): a prefix
//! that says what they are, then 32 random bytes in base64url. They are shown
//! once; the store keeps only their SHA-256, which is enough to find one again
//! because the secret has all the entropy a slow hash would otherwise add.

use base64::Engine as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// `prefix` and 32 random bytes, base64url without padding (43 characters).
pub fn generate(prefix: &str) -> SecretString {
    let mut bytes = [0u8; 32];
    // The OS's generator fails only on a broken system: nothing to offer then.
    getrandom::getrandom(&mut bytes).expect("the operating system provides random bytes");
    SecretString::from(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The stored form of a secret: its SHA-256, in hex.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn secrets_are_prefixed_random_and_hash_to_hex() {
        let (a, b) = (generate("x_"), generate("x_"));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with("x_") && a.expose_secret().len() == 45);
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
