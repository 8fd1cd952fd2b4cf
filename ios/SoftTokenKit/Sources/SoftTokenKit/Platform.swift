// What the shell needs from the platform (twin of android/shell's Platform.kt): the clipboard,
// the biometric key and the vault key's wrap. The timing and state machines (when a copied
// code is cleared, when biometric unlock goes) are the core's (crates/core/src/app); the
// platform calls are in the app (UIPasteboard, Secure Enclave, Keychain).
import Foundation

/// The system clipboard, as the code copy button uses it.
public protocol Pasteboard: AnyObject {
    /// Puts `text` on the clipboard `.localOnly` (no Universal Clipboard) with an expiry.
    func putSensitive(_ text: String)
    /// Whether the clipboard still holds our last clip (`changeCount` unchanged); nil: cannot tell.
    func stillOurs() -> Bool?
    /// Empties the clipboard.
    func clear()
}

/// The biometric unlock key: the PIN encrypted to a Secure Enclave key pair whose private
/// half needs `.biometryCurrentSet` (a biometry change invalidates it).
public protocol BiometricKeys: AnyObject {
    /// Whether Face ID / Touch ID is set up now.
    func available() -> Bool
    /// Whether a PIN is stored under a biometric key.
    func enrolled() -> Bool
    /// Makes a new key and stores `pin` (ASCII digits) encrypted to it; no prompt.
    func enroll(pin: Data) throws
    /// Deletes the key and the stored PIN.
    func remove()
}

/// The platform key that protects the vault key (Keychain / Secure Enclave), implemented by
/// the app. Throw `PlatformKeyError` for known failures.
public protocol PlatformKeyWrapper: AnyObject, Sendable {
    /// Encrypts the 32-byte vault key.
    func wrap(_ key: Data) throws -> Data
    /// Decrypts what `wrap` returned.
    func unwrap(_ wrapped: Data) throws -> Data
}

/// A platform key failure; `permanent` means the key is gone for good (reset needed).
public struct PlatformKeyError: Error, Sendable {
    /// What the platform said.
    public let message: String
    /// True when retrying cannot help.
    public let permanent: Bool

    /// An error.
    public init(_ message: String, permanent: Bool) {
        self.message = message
        self.permanent = permanent
    }
}

/// Hands a `PlatformKeyWrapper` to the core as its foreign `KeyWrapper`.
final class KeyWrapperBridge: KeyWrapper, @unchecked Sendable {
    private let keys: PlatformKeyWrapper

    init(keys: PlatformKeyWrapper) {
        self.keys = keys
    }

    // The data key's copy for this call is wiped once wrapped (bindings/README.md).
    func wrapKey(key: Data) throws -> Data {
        var copy = key
        defer { copy.resetBytes(in: 0..<copy.count) }
        return try platform { try keys.wrap(copy) }
    }

    func unwrapKey(wrapped: Data) throws -> Data { try platform { try keys.unwrap(wrapped) } }

    private func platform(_ body: () throws -> Data) throws -> Data {
        do { return try body() } catch let e as PlatformKeyError {
            throw e.permanent ? KeyWrapperError.KeyLost(detail: e.message) : KeyWrapperError.Unavailable(detail: e.message)
        }
    }
}

/// The core's effects on the platform's clipboard and biometric key.
final class ShellBridge: AppShell, @unchecked Sendable {
    private let pasteboard: Pasteboard
    private let biometrics: BiometricKeys
    private let onView: (AppView) -> Void

    init(pasteboard: Pasteboard, biometrics: BiometricKeys, onView: @escaping (AppView) -> Void) {
        self.pasteboard = pasteboard
        self.biometrics = biometrics
        self.onView = onView
    }

    func render(view: AppView) { onView(view) }
    func putOnClipboard(text: String) { pasteboard.putSensitive(text) }
    func clipboardStillOurs() -> Bool? { pasteboard.stillOurs() }
    func clearClipboard() { pasteboard.clear() }
    func biometricAvailable() -> Bool { biometrics.available() }
    func biometricEnrolled() -> Bool { biometrics.enrolled() }

    // The PIN's copy is wiped once sealed. A failed enrolment stores nothing, and the core
    // tells the customer (error_biometric_setup_failed).
    func biometricEnroll(pin: Data) throws {
        var copy = pin
        defer { copy.resetBytes(in: 0..<copy.count) }
        do {
            try biometrics.enroll(pin: copy)
        } catch {
            throw ShellError.Platform(detail: "\(error)")
        }
    }

    func biometricRemove() { biometrics.remove() }
}
