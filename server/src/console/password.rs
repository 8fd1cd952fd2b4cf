//! Operators' passwords (Argon2id, PHC strings) and the secrets the console generates.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// Shortest operator password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Letters and digits no one mistakes for each other when reading them out (no 0/O, 1/l/I).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";

/// A random string of `len` characters of [`ALPHABET`].
pub fn generate(len: usize) -> Zeroizing<String> {
    let mut rng = OsRng;
    Zeroizing::new(
        (0..len)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect(),
    )
}

/// A fresh operator password (20 characters, about 116 bits).
pub fn generate_password() -> Zeroizing<String> {
    generate(20)
}

/// A start password for an activation (10 characters, about 58 bits; the enrollment takes
/// only a few guesses).
pub fn generate_start_password() -> Zeroizing<String> {
    generate(10)
}

/// Whether `password` is long enough and printable.
pub fn acceptable(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the password must not contain control characters".into());
    }
    Ok(())
}

/// The Argon2id PHC string of `password` (default parameters of the argon2 crate: OWASP's
/// m=19 MiB, t=2, p=1), with a random salt.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `phc` (the crate compares in constant time).
/// A malformed stored hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Whether `password` matches the PHC string `phc`, like [`verify`], but filling `memory`
/// (grown to the hash's `m` KiB if smaller) instead of allocating Argon2's memory afresh.
/// The sign-in pool keeps one such buffer per running check (issue 22): allocating and
/// freeing 19 MiB per check on whichever blocking thread ran it left hundreds of MiB in the
/// allocator's per-thread arenas after a flood. A malformed stored hash matches nothing.
pub fn verify_in(password: &str, phc: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::Output;
    use argon2::{Algorithm, Params, Version};
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), argon2::Block::default());
    }
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash to verify against when no operator has the name given, so an unknown name costs
/// the same time as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&generate_password()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterx", &phc));
        assert!(!verify("correct horse battery", "not a hash"));
        // The same answers with a reused buffer, which grows once to the hash's memory.
        let mut memory = Vec::new();
        assert!(verify_in("correct horse battery", &phc, &mut memory));
        assert_eq!(memory.len(), 19 * 1024);
        assert!(!verify_in("correct horse batterx", &phc, &mut memory));
        assert!(verify_in("correct horse battery", &phc, &mut memory));
        assert!(!verify_in(
            "correct horse battery",
            "not a hash",
            &mut memory
        ));
        assert_eq!(memory.len(), 19 * 1024);
    }

    #[test]
    fn generated_secrets_are_random_and_readable() {
        let a = generate_password();
        assert_eq!(a.len(), 20);
        assert_ne!(*a, *generate_password());
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert!(acceptable(&a).is_ok());
        assert!(acceptable("short").is_err());
    }
}
