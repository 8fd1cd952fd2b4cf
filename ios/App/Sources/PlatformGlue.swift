// The platform halves of SoftTokenKit's Pasteboard and BiometricKeys seams. The timing and
// state machines are SoftTokenKit's; here only UIKit, LocalAuthentication and Security calls.
import Foundation
import LocalAuthentication
import Security
import SoftTokenKit
import UIKit

/// The general pasteboard: local only (no Universal Clipboard), expiring after 60 s.
final class SystemPasteboard: Pasteboard {
    private var ourChangeCount: Int?

    func putSensitive(_ text: String) {
        let expiry = Date().addingTimeInterval(Double(CodeClipboard.clearAfterMs) / 1000)
        UIPasteboard.general.setItems([[UIPasteboard.typeAutomatic: text]],
                                      options: [.localOnly: true, .expirationDate: expiry])
        ourChangeCount = UIPasteboard.general.changeCount
        // VoiceOver says the code was copied (the notice is shown too).
        UIAccessibility.post(notification: .announcement, argument: NSLocalizedString("info_code_copied", comment: ""))
    }

    func stillOurs() -> Bool? {
        guard let ours = ourChangeCount else { return false }
        return UIPasteboard.general.changeCount == ours
    }

    func clear() {
        UIPasteboard.general.items = []
        ourChangeCount = nil
    }
}

/// The PIN sealed to a Secure Enclave P-256 key with `.biometryCurrentSet`: sealing uses the
/// public key (no prompt); opening prompts Face ID / Touch ID, and fails for good once the
/// enrolled biometry changed (the key is invalidated).
final class SecureEnclaveBiometricKeys: BiometricKeys {
    static let shared = SecureEnclaveBiometricKeys()
    private let tag = Data("jp.softtoken.biometric.key".utf8)
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private let sealedFile: URL = FileManager.default
        .urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        .appendingPathComponent("SoftToken/biometric-pin.sealed")

    func available() -> Bool {
        LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: nil)
    }

    func enrolled() -> Bool { FileManager.default.fileExists(atPath: sealedFile.path) && key() != nil }

    func enroll(pin: Data) throws {
        remove()
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, [.privateKeyUsage, .biometryCurrentSet], nil) else {
            throw CoreFailure.keyUnavailable
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
        var error: Unmanaged<CFError>?
        guard let privateKey = SecKeyCreateRandomKey(attributes as CFDictionary, &error),
              let publicKey = SecKeyCopyPublicKey(privateKey),
              let sealed = SecKeyCreateEncryptedData(publicKey, algorithm, pin as CFData, &error) as Data? else {
            throw CoreFailure.keyUnavailable
        }
        try sealed.write(to: sealedFile, options: [.atomic, .completeFileProtection])
    }

    func remove() {
        SecItemDelete([kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag] as CFDictionary)
        try? FileManager.default.removeItem(at: sealedFile)
    }

    /// Prompts and opens the sealed PIN (blocks until the prompt ends: call off the main thread).
    func unlock(reason: String) -> BiometricResult {
        guard let sealed = try? Data(contentsOf: sealedFile) else { return .invalidated }
        // A biometry change deletes nothing but makes the key unusable: gone or refused both mean the PIN.
        guard let privateKey = key(prompt: reason) else { return .invalidated }
        var error: Unmanaged<CFError>?
        guard let pin = SecKeyCreateDecryptedData(privateKey, algorithm, sealed as CFData, &error) as Data? else {
            let code = (error?.takeRetainedValue() as Error?).map { ($0 as NSError).code } ?? 0
            if code == LAError.userCancel.rawValue || code == LAError.userFallback.rawValue || code == Int(errSecUserCanceled) {
                return .cancelled
            }
            return code == LAError.biometryLockout.rawValue ? .failed : .invalidated
        }
        return .success(pin: pin)
    }

    private func key(prompt: String? = nil) -> SecKey? {
        var query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: tag,
            kSecReturnRef as String: true,
        ]
        if let prompt {
            let context = LAContext()
            context.localizedReason = prompt
            query[kSecUseAuthenticationContext as String] = context
        }
        var item: CFTypeRef?
        guard SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess, let item else { return nil }
        return (item as! SecKey)
    }
}
