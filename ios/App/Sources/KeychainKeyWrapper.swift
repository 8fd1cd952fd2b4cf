// The vault's platform key on iOS. With a Secure Enclave (every iPhone since the 5s): a P-256
// key that never leaves the enclave, and the vault key sealed to it with ECIES (X9.63 KDF,
// AES-GCM). Without one (the simulator): a random AES-256 key in the Keychain. Both are
// "this device only, after first unlock": never in backups, never on another phone.
import CryptoKit
import Foundation
import Security
import SoftTokenKit

/// Wraps the vault key with a Secure Enclave or Keychain key, created on first use.
final class KeychainKeyWrapper: PlatformKeyWrapper, @unchecked Sendable {
    private let tag = "jp.softtoken.vault.key".data(using: .utf8)!
    private let service = "jp.softtoken.vault"
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private let lock = NSLock()

    func wrap(_ key: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        if SecureEnclave.isAvailable {
            let privateKey = try enclaveKey(create: true)
            guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
                throw PlatformKeyError("no public key for the enclave key", permanent: true)
            }
            var error: Unmanaged<CFError>?
            guard let sealed = SecKeyCreateEncryptedData(publicKey, algorithm, key as CFData, &error) as Data? else {
                throw PlatformKeyError("enclave wrap failed: \(describe(error))", permanent: false)
            }
            return Data([Self.enclaveFormat]) + sealed
        }
        let box = try AES.GCM.seal(key, using: try keychainKey(create: true))
        guard let combined = box.combined else { throw PlatformKeyError("AES-GCM produced no output", permanent: false) }
        return Data([Self.keychainFormat]) + combined
    }

    func unwrap(_ wrapped: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        guard let format = wrapped.first else { throw PlatformKeyError("empty wrapped key", permanent: true) }
        let body = wrapped.dropFirst()
        switch format {
        case Self.enclaveFormat:
            let privateKey = try enclaveKey(create: false)
            var error: Unmanaged<CFError>?
            guard let key = SecKeyCreateDecryptedData(privateKey, algorithm, Data(body) as CFData, &error) as Data? else {
                throw PlatformKeyError("enclave unwrap failed: \(describe(error))", permanent: true)
            }
            return key
        case Self.keychainFormat:
            do {
                return try AES.GCM.open(AES.GCM.SealedBox(combined: body), using: try keychainKey(create: false))
            } catch let e as PlatformKeyError {
                throw e
            } catch {
                throw PlatformKeyError("keychain unwrap failed", permanent: true)
            }
        default:
            throw PlatformKeyError("unknown wrapped key format \(format)", permanent: true)
        }
    }

    // MARK: Secure Enclave

    private func enclaveKey(create: Bool) throws -> SecKey {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let item { return item as! SecKey }
        guard status == errSecItemNotFound else { throw keychainError(status) }
        guard create else { throw PlatformKeyError("the enclave key is gone", permanent: true) }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
                                                           .privateKeyUsage, &error) else {
            throw PlatformKeyError("access control: \(describe(error))", permanent: false)
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw PlatformKeyError("enclave key creation failed: \(describe(error))", permanent: false)
        }
        return key
    }

    // MARK: Keychain fallback

    private func keychainKey(create: Bool) throws -> SymmetricKey {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: "vault-key",
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let data = item as? Data { return SymmetricKey(data: data) }
        guard status == errSecItemNotFound else { throw keychainError(status) }
        guard create else { throw PlatformKeyError("the keychain key is gone", permanent: true) }
        let key = SymmetricKey(size: .bits256)
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: "vault-key",
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
            kSecValueData as String: key.withUnsafeBytes { Data($0) },
        ]
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else { throw keychainError(added) }
        return key
    }

    // Locked device or interaction not allowed: try again later; anything else is reported
    // as temporary too, so a passing Keychain hiccup never leads a customer to a reset.
    private func keychainError(_ status: OSStatus) -> PlatformKeyError {
        PlatformKeyError("keychain status \(status)", permanent: false)
    }

    private func describe(_ error: Unmanaged<CFError>?) -> String {
        error.map { String(describing: $0.takeRetainedValue()) } ?? "unknown"
    }

    private static let enclaveFormat: UInt8 = 1
    private static let keychainFormat: UInt8 = 2
}
