// The seam between the app's flows and the Rust token core (the twin of
// android/shell/.../TokenCore.kt). Only FfiTokenCore.swift knows the generated bindings.
import Foundation

/// Where a token is in its life, as the app knows it.
public enum TokenStatus: Equatable, Sendable {
    /// Activated or provisioned; the bank has not yet confirmed or registered its first code.
    case pending
    /// In use.
    case active
    /// Revoked by the bank (トークン失効); kept so the customer sees what happened.
    case revoked
    /// The bank stopped OTP for the customer (利用中止): dead, like a revoked token.
    case stopped
    /// A newer token took its place (re-activation, 機種変更): dead, its twin lives on.
    case replaced

    /// A dead token never shows a code again and can only be deleted.
    public var dead: Bool { self == .revoked || self == .stopped || self == .replaced }
}

/// One token as a list shows it: never its seed.
public struct TokenSummary: Equatable, Sendable {
    /// The serial without spaces (`SKTS12345678`).
    public let serial: String
    /// The serial grouped for reading (`SKTS 1234 5678`).
    public let serialGrouped: String
    /// The bank's display name.
    public let issuer: String
    /// The customer's label (the user ID at activation); may be empty.
    public let label: String
    /// Life-cycle state.
    public let status: TokenStatus
    /// Code length: 6 or 8.
    public let digits: Int
    /// Seconds each code lasts.
    public let periodSeconds: Int
    /// The bank's service ID: a transfer challenge is answered by a token of its service.
    public let serviceId: String

    /// A summary.
    public init(serial: String, serialGrouped: String, issuer: String, label: String,
                status: TokenStatus, digits: Int, periodSeconds: Int, serviceId: String = "") {
        self.serviceId = serviceId
        self.serial = serial
        self.serialGrouped = serialGrouped
        self.issuer = issuer
        self.label = label
        self.status = status
        self.digits = digits
        self.periodSeconds = periodSeconds
    }
}

/// What a token shows at one moment. Its description hides the codes.
public struct CodeSnapshot: Equatable, Sendable, CustomStringConvertible {
    /// The code valid now.
    public let code: String
    /// `code` grouped by the core for reading and typing: `123 456`, `1234 5678`.
    public let codeGrouped: String
    /// Seconds until `code` is replaced.
    public let secondsLeft: Int
    /// The step length in seconds.
    public let periodSeconds: Int
    /// The next step's code.
    public let nextCode: String
    /// `nextCode`, grouped like `codeGrouped`.
    public let nextCodeGrouped: String

    /// A snapshot.
    public init(code: String, codeGrouped: String, secondsLeft: Int, periodSeconds: Int,
                nextCode: String, nextCodeGrouped: String) {
        self.code = code
        self.codeGrouped = codeGrouped
        self.secondsLeft = secondsLeft
        self.periodSeconds = periodSeconds
        self.nextCode = nextCode
        self.nextCodeGrouped = nextCodeGrouped
    }

    public var description: String { "CodeSnapshot(secondsLeft: \(secondsLeft))" }
}

/// What an activation URI (the bank's QR code) points at. Never holds a password.
public struct ActivationTarget: Equatable, Sendable {
    /// The activation server, `https://…`.
    public let serverURL: String
    /// サービスID.
    public let serviceId: String
    /// ユーザID.
    public let userId: String

    /// A target.
    public init(serverURL: String, serviceId: String, userId: String) {
        self.serverURL = serverURL
        self.serviceId = serviceId
        self.userId = userId
    }
}

/// A transfer the bank asks the customer to confirm (取引確認), read from its QR code. The
/// account is only kept masked, as the bank's screen shows it.
public struct TransferRequest: Equatable, Sendable {
    /// The bank (service) that asks: only its token can answer.
    public let serviceId: String
    /// The challenge's id.
    public let id: String
    /// The payee's name (振込先).
    public let payeeName: String
    /// The payee's account with all but its last four characters masked.
    public let maskedAccount: String
    /// The amount with its currency, grouped for people (金額): `50,000 JPY`.
    public let displayAmount: String
    /// The scanned payload, signed once the customer confirms.
    public let payload: String

    /// A transfer request.
    public init(serviceId: String, id: String, payeeName: String, maskedAccount: String,
                displayAmount: String, payload: String) {
        self.serviceId = serviceId
        self.id = id
        self.payeeName = payeeName
        self.maskedAccount = maskedAccount
        self.displayAmount = displayAmount
        self.payload = payload
    }
}

/// The input field a failure refers to.
public enum InputField: Equatable, Sendable {
    case serviceId, userId, startPassword, activationURI, serial
}

/// Why a core call failed, in the terms the app acts on.
public enum CoreFailure: Error, Equatable, Sendable {
    case invalidPin
    case wrongPin(attemptsLeft: Int, retryAfterSeconds: Int)
    case tooSoon(retryAfterSeconds: Int)
    case locked
    case wrongStartPassword(attemptsLeft: Int)
    case enrollmentLocked
    case enrollmentExpired
    case enrollmentNotFound
    case invalidInput(field: InputField?, detail: String)
    case network(detail: String)
    case rejected(detail: String)
    case keyUnavailable
    case corruptVault
    case keyLost
    case vaultTooNew
    case storage
    case tokenNotFound
    case `internal`(detail: String)
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

/// The token core as the flows use it. Every call may block: call off the main thread.
/// Failures throw `CoreFailure`.
public protocol TokenCore: AnyObject {
    func hasPin() throws -> Bool
    func isLocked() throws -> Bool
    func unlock(pin: String) throws
    /// Seconds before the core checks another PIN: its wrong-PIN back-off, 0 when a PIN may
    /// be tried now. The core keeps it in the vault, so it holds across restarts.
    func pinRetryAfterSeconds() throws -> Int
    func lock() throws
    func setPin(_ pin: String) throws
    func changePin(old: String, new: String) throws
    func removePin(_ pin: String) throws
    func wipe() throws
    func tokens() throws -> [TokenSummary]
    func code(serial: String, deviceUnixMs: Int64) throws -> CodeSnapshot
    func parseActivationURI(_ uri: String) throws -> ActivationTarget
    func activate(_ target: ActivationTarget, startPassword: String) throws -> TokenSummary
    func provision(serverURL: String, serviceId: String) throws -> TokenSummary
    /// Asks every server for its clock offset, then every live token's state (MAC'd both
    /// ways, DESIGN.md §12), and records the answers. False when a server could not be asked:
    /// its tokens keep their last known states. Goes to the network.
    func refresh() throws -> Bool
    func syncTime(serial: String) throws
    func delete(serial: String) throws
    /// Reads a scanned transfer challenge (`softtoken://sign?v=1&…`); malformed: invalidInput.
    func parseTransfer(_ payload: String) throws -> TransferRequest
    /// Token `serial`'s code for the challenge `payload`, after the customer confirmed it.
    func signTransfer(serial: String, payload: String) throws -> String
    /// Token `serial`'s code for the digits typed from the bank's screen (manual mode).
    func signTypedDigits(serial: String, digits: String) throws -> String
}

/// Opens the vault, or replaces it with an empty one (the reset).
public protocol VaultOpener {
    /// Opens (or creates) the vault.
    func open() throws -> TokenCore
    /// Replaces whatever vault there is, readable or not, locked or not, with an empty one
    /// without a PIN: every token is deleted.
    func reset() throws -> TokenCore
}
