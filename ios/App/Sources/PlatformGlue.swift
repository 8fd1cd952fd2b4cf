// The platform halves of SoftTokenKit's Pasteboard and BiometricKeys seams. The timing and
// state machines are the core's (crates/core/src/app); here only UIKit, LocalAuthentication
// and Security calls.
import Foundation
import LocalAuthentication
import Security
import SoftTokenKit
import UIKit

/// The general pasteboard: local only (no Universal Clipboard), expiring after 60 s.
final class SystemPasteboard: Pasteboard {
    /// The system's own expiry: the core's (`clipboardClearSeconds`, 60 s), which also runs
    /// while the app is suspended.
    static let expirySeconds = TimeInterval(clipboardClearSeconds())
    private var ourChangeCount: Int?

    // VoiceOver hears "copied" from the core's notice (NoticeBar announces it, formatted).
    func putSensitive(_ text: String) {
        UIPasteboard.general.setItems([[UIPasteboard.typeAutomatic: text]],
                                      options: [.localOnly: true,
                                                .expirationDate: Date().addingTimeInterval(Self.expirySeconds)])
        ourChangeCount = UIPasteboard.general.changeCount
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
///
/// Only that (the key gone, or the biometry set changed since enrolment) removes biometric
/// unlock. A cancelled, failed or locked-out prompt, or any other error, keeps it: the
/// customer types the PIN this time and Face ID works again next time.
final class SecureEnclaveBiometricKeys: BiometricKeys {
    static let shared = SecureEnclaveBiometricKeys()
    private let tag = Data("jp.softtoken.biometric.key".utf8)
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private static let directory: URL = FileManager.default
        .urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        .appendingPathComponent("SoftToken")
    private let sealedFile = SecureEnclaveBiometricKeys.directory.appendingPathComponent("biometric-pin.sealed")
    // The biometry set (LAContext's domain state) at enrolment: no secret, but the only sure
    // sign that "the key no longer opens" means "Face ID changed" and not a passing error.
    private let domainStateFile = SecureEnclaveBiometricKeys.directory.appendingPathComponent("biometric-domain.state")

    func available() -> Bool {
        LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: nil)
    }

    func enrolled() -> Bool { FileManager.default.fileExists(atPath: sealedFile.path) && key().0 != nil }

    func enroll(pin: Data) throws {
        remove()
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, [.privateKeyUsage, .biometryCurrentSet], nil) else {
            throw PlatformKeyError("no access control for the biometric key", permanent: false)
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
            throw PlatformKeyError("no access control for the biometric key", permanent: false)
        }
        try sealed.write(to: sealedFile, options: [.atomic, .completeFileProtection])
        if let state = Self.biometryState() {
            try state.write(to: domainStateFile, options: [.atomic, .completeFileProtection])
        }
    }

    func remove() {
        SecItemDelete([kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag] as CFDictionary)
        try? FileManager.default.removeItem(at: sealedFile)
        try? FileManager.default.removeItem(at: domainStateFile)
    }

    /// Prompts and opens the sealed PIN (blocks until the prompt ends: call off the main thread).
    func unlock(reason: String) -> BiometricOutcome {
        let sealed: Data
        do {
            sealed = try Data(contentsOf: sealedFile)
        } catch {
            // Never enrolled or already removed: nothing to keep. Unreadable now (data
            // protection, storage): a passing failure.
            return Self.outcome(code: 0, keyGone: !FileManager.default.fileExists(atPath: sealedFile.path),
                                biometryChanged: false)
        }
        let (found, status) = key(prompt: reason)
        guard let privateKey = found else {
            return Self.outcome(code: Int(status), keyGone: status == errSecItemNotFound,
                                biometryChanged: biometryChanged())
        }
        var error: Unmanaged<CFError>?
        guard let pin = SecKeyCreateDecryptedData(privateKey, algorithm, sealed as CFData, &error) as Data? else {
            let code = (error?.takeRetainedValue() as Error?).map { ($0 as NSError).code } ?? 0
            return Self.outcome(code: code, keyGone: false, biometryChanged: biometryChanged())
        }
        return .success(pin: pin)
    }

    /// What a failed open means. The one place `.invalidated` (which removes biometric unlock)
    /// is decided: only for a key that is gone or a biometry set that changed since enrolment.
    /// A cancelled prompt is `.cancelled` even then (the customer chose the PIN; the next try
    /// finds the change); everything else (no match, lockout, any other error) is `.failed`.
    static func outcome(code: Int, keyGone: Bool, biometryChanged: Bool) -> BiometricOutcome {
        let cancels = [LAError.userCancel.rawValue, LAError.userFallback.rawValue, LAError.systemCancel.rawValue,
                       LAError.appCancel.rawValue, Int(errSecUserCanceled)]
        if cancels.contains(code) { return .cancelled }
        if keyGone || biometryChanged { return .invalidated }
        return .failed
    }

    // The biometry set now (nil: Face ID / Touch ID not set up, or no state to compare).
    private static func biometryState() -> Data? {
        let context = LAContext()
        guard context.canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: nil) else { return nil }
        return context.evaluatedPolicyDomainState
    }

    // True only when the state saved at enrolment and today's differ (or biometry is gone
    // entirely); without a saved state (an enrolment before this check) nothing is assumed.
    private func biometryChanged() -> Bool {
        guard let saved = try? Data(contentsOf: domainStateFile) else { return false }
        guard let now = Self.biometryState() else {
            // Lockout also makes canEvaluatePolicy fail: that is no change.
            var error: NSError?
            _ = LAContext().canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error)
            return error?.code == LAError.biometryNotEnrolled.rawValue
        }
        return now != saved
    }

    private func key(prompt: String? = nil) -> (SecKey?, OSStatus) {
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
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        guard status == errSecSuccess, let item else { return (nil, status) }
        return ((item as! SecKey), status)
    }
}
