// What the shell needs from the platform beyond the vault (twin of Platform.kt): the
// clipboard, the biometric key and the bank directory; the timing and state machines are
// here, the platform calls in the app (UIPasteboard, Secure Enclave, the bundle's banks.json).
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

/// A copied code's life on the clipboard (twin of CodeClipboard.kt): cleared 60 s later and
/// at once when the app locks, unless the clip is known to be someone else's.
public final class CodeClipboard {
    /// 60 s: long enough to switch to internet banking and paste.
    public static let clearAfterMs: Int64 = 60_000
    private let board: Pasteboard
    private let now: () -> Int64
    private var clearAtMs: Int64?

    public init(board: Pasteboard, now: @escaping () -> Int64) {
        self.board = board
        self.now = now
    }

    /// Whether a copied code still waits to be cleared.
    public var pending: Bool { clearAtMs != nil }

    /// Copies `code` and starts its countdown.
    public func copy(_ code: String) {
        board.putSensitive(code)
        clearAtMs = now() + CodeClipboard.clearAfterMs
    }

    /// Clears the clip when due (see the type); true when it cleared it.
    @discardableResult
    public func tick() -> Bool {
        guard let due = clearAtMs, now() >= due else { return false }
        return clearUnlessTheirs()
    }

    /// The app locks: a copied code still waiting goes now; true when it cleared it.
    @discardableResult
    public func clearNow() -> Bool {
        clearAtMs == nil ? false : clearUnlessTheirs()
    }

    private func clearUnlessTheirs() -> Bool {
        clearAtMs = nil
        // Someone copied something else since: theirs stays. Ours, or cannot tell: it goes.
        if board.stillOurs() == false { return false }
        board.clear()
        return true
    }
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

/// How the biometric prompt ended.
public enum BiometricResult {
    /// The stored PIN; the shell wipes it.
    case success(pin: Data)
    case cancelled
    /// The key is invalidated or gone (biometry changed).
    case invalidated
    case failed
}

/// A bank of the app build's directory.
public struct Bank: Equatable, Sendable {
    public let serviceId: String
    public let name: String
    public let serverURL: String

    public init(serviceId: String, name: String, serverURL: String) {
        self.serviceId = serviceId
        self.name = name
        self.serverURL = serverURL
    }
}

/// Whether a scanned server is one the directory lists.
public enum ServerCheck: Equatable, Sendable {
    case known(Bank)
    case unknown(host: String)
}

/// The bank directory, read and judged by the core (`FfiTokenCore.bankDirectory`).
public protocol BankDirectory: AnyObject {
    var banks: [Bank] { get }
    func find(serviceId: String) -> Bank?
    func check(serviceId: String, serverURL: String) throws -> ServerCheck
}
