// The only file that knows the generated bindings (module SoftTokenCore): it turns calls into
// core calls and the core's one error enum into CoreFailure.
import Foundation
import SoftTokenCore

/// `TokenCore` over the Rust core's `TokenStore`.
public final class FfiTokenCore: TokenCore {
    /// The vault's file name in the app's Application Support directory.
    public static let vaultFile = "tokens.vault"

    private let store: TokenStore

    fileprivate init(store: TokenStore) {
        self.store = store
    }

    /// The bundle's bank directory (`banks.json`), parsed and checked by the core.
    public static func bankDirectory(json: String) throws -> BankDirectory {
        do {
            return CoreBanks(dir: try SoftTokenCore.BankDirectory.fromJson(json: json))
        } catch let e as SoftTokenError {
            throw failure(e)
        }
    }

    /// A `VaultOpener` for the vault in `directory`, its key protected by `keys`.
    public static func opener(directory: URL, keys: PlatformKeyWrapper) -> VaultOpener {
        Opener(directory: directory, keys: keys)
    }

    public func hasPin() throws -> Bool { try call { try store.hasPin() } }
    public func isLocked() throws -> Bool { try call { try store.isLocked() } }
    public func unlock(pin: String) throws { try call { try store.unlock(pin: pin) } }
    public func pinRetryAfterSeconds() throws -> Int { try call { Int(try store.pinRetryAfterSeconds()) } }
    public func lock() throws { try call { try store.lock() } }
    public func setPin(_ pin: String) throws { try call { try store.setPin(pin: pin) } }
    public func changePin(old: String, new: String) throws { try call { try store.changePin(oldPin: old, newPin: new) } }
    public func removePin(_ pin: String) throws { try call { try store.removePin(pin: pin) } }
    public func wipe() throws { try call { try store.wipe() } }

    public func tokens() throws -> [TokenSummary] {
        try call { try store.tokens().map(FfiTokenCore.summary) }
    }

    public func code(serial: String, deviceUnixMs: Int64) throws -> CodeSnapshot {
        try call {
            let c = try store.codeAt(serial: serial, deviceUnixMs: deviceUnixMs)
            return CodeSnapshot(code: c.code, codeGrouped: c.codeGrouped, secondsLeft: Int(c.secondsLeft),
                                periodSeconds: Int(c.period), nextCode: c.nextCode, nextCodeGrouped: c.nextCodeGrouped)
        }
    }

    public func parseActivationURI(_ uri: String) throws -> ActivationTarget {
        try call {
            let target = try SoftTokenCore.parseActivationUri(uri: uri)
            return ActivationTarget(serverURL: target.serverUrl, serviceId: target.serviceId, userId: target.userId)
        }
    }

    public func activate(_ target: ActivationTarget, startPassword: String) throws -> TokenSummary {
        try call {
            FfiTokenCore.summary(try store.activate(serverUrl: target.serverURL, serviceId: target.serviceId,
                                                    userId: target.userId, startPassword: startPassword))
        }
    }

    public func provision(serverURL: String, serviceId: String) throws -> TokenSummary {
        try call { FfiTokenCore.summary(try store.provision(serverUrl: serverURL, serviceId: serviceId)) }
    }

    public func refresh() throws -> Bool {
        try call {
            let outcome = try store.refresh()
            return outcome.time.allSatisfy { $0.failure == nil } && outcome.status.allSatisfy { $0.error == nil }
        }
    }

    public func syncTime(serial: String) throws { _ = try call { try store.syncTokenTime(serial: serial) } }

    public func delete(serial: String) throws { try call { try store.delete(serial: serial) } }

    public func parseTransfer(_ payload: String) throws -> TransferRequest {
        try call {
            let c = try SoftTokenCore.parseTransferChallenge(payload: payload)
            return TransferRequest(serviceId: c.serviceId, id: c.id, payeeName: c.payeeName,
                                   maskedAccount: c.maskedAccount, displayAmount: c.displayAmount, payload: payload)
        }
    }

    public func signTransfer(serial: String, payload: String) throws -> String {
        try call { try store.signChallenge(serial: serial, payload: payload) }
    }

    public func signTypedDigits(serial: String, digits: String) throws -> String {
        try call { try store.signTypedDigits(serial: serial, digits: digits) }
    }

    private static func summary(_ info: TokenInfo) -> TokenSummary {
        let status: TokenStatus
        switch info.state {
        case .pending: status = .pending
        case .active: status = .active
        case .revoked: status = .revoked
        case .stopped: status = .stopped
        case .replaced: status = .replaced
        }
        return TokenSummary(serial: info.serial.compact, serialGrouped: info.serial.grouped, issuer: info.issuer,
                            label: info.userLabel, status: status, digits: Int(info.otp.digits),
                            periodSeconds: Int(info.otp.periodSeconds), serviceId: info.serviceId)
    }

    // The one place the core's error enum becomes a CoreFailure.
    private func call<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SoftTokenError { throw FfiTokenCore.failure(e) }
    }

    private static func failure(_ e: SoftTokenError) -> CoreFailure {
        switch e {
        case .InvalidPin: return .invalidPin
        case let .WrongPin(attemptsLeft, retryAfterSeconds):
            return .wrongPin(attemptsLeft: Int(attemptsLeft), retryAfterSeconds: Int(retryAfterSeconds))
        case let .TooSoon(retryAfterSeconds): return .tooSoon(retryAfterSeconds: Int(retryAfterSeconds))
        case .Locked: return .locked
        case let .InvalidInput(field, detail): return .invalidInput(field: inputField(field), detail: detail)
        case let .WrongStartPassword(attemptsLeft): return .wrongStartPassword(attemptsLeft: Int(attemptsLeft))
        case .EnrollmentLocked: return .enrollmentLocked
        case .EnrollmentExpired: return .enrollmentExpired
        case .EnrollmentNotFound: return .enrollmentNotFound
        // Only a typed service ID can name a service the server does not know.
        case .UnknownService: return .invalidInput(field: .serviceId, detail: String(describing: e))
        case .ServerBusy: return .rejected(detail: String(describing: e))
        case let .ServerRefused(_, code, detail): return .rejected(detail: "\(code): \(detail)")
        case let .Network(detail): return .network(detail: detail)
        case let .BadServerResponse(detail): return .network(detail: detail)
        case .TokenNotFound: return .tokenNotFound
        case .CorruptVault: return .corruptVault
        case .VaultTooNew: return .vaultTooNew
        case .KeyUnavailable: return .keyUnavailable
        case .KeyLost: return .keyLost
        case .Storage: return .storage
        // NoPin, PinAlreadySet, DuplicateToken: the flows never meet them; a bug if they come.
        default: return .internal(detail: String(describing: e))
        }
    }

    // A server URL comes from the app's configuration or inside an activation URI, so only
    // the URI is a field the customer can fix.
    private static func inputField(_ field: SoftTokenCore.InputField) -> InputField? {
        switch field {
        case .serviceId: return .serviceId
        case .userId: return .userId
        case .startPassword: return .startPassword
        case .activationUri: return .activationURI
        case .serial: return .serial
        case .serverUrl, .otpSettings, .other: return nil
        }
    }
}

private struct Opener: VaultOpener {
    let directory: URL
    let keys: PlatformKeyWrapper

    func open() throws -> TokenCore {
        try store { try TokenStore.open(path: $0, keyWrapper: KeyWrapperBridge(keys: keys)) }
    }

    func reset() throws -> TokenCore {
        try store { try TokenStore.reset(path: $0, keyWrapper: KeyWrapperBridge(keys: keys)) }
    }

    private func store(_ make: (String) throws -> TokenStore) throws -> TokenCore {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // The vault's key is this device's (Secure Enclave / this-device-only Keychain):
            // a vault restored from a backup onto any phone could never open. Out of backups.
            var folder = directory
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try folder.setResourceValues(values)
            return FfiTokenCore(store: try make(directory.appendingPathComponent(FfiTokenCore.vaultFile).path))
        } catch let e as SoftTokenError {
            throw FfiTokenCore.failureForOpen(e)
        } catch let e as CoreFailure {
            throw e
        } catch {
            throw CoreFailure.internal(detail: String(describing: error))
        }
    }
}

extension FfiTokenCore {
    fileprivate static func failureForOpen(_ e: SoftTokenError) -> CoreFailure { failure(e) }
}

/// Hands a `PlatformKeyWrapper` to the core as its foreign `KeyWrapper`.
private final class KeyWrapperBridge: KeyWrapper, @unchecked Sendable {
    private let keys: PlatformKeyWrapper

    init(keys: PlatformKeyWrapper) {
        self.keys = keys
    }

    // The data key's copy for this call is wiped once wrapped.
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

/// The core's directory behind the shell's `BankDirectory`.
private final class CoreBanks: BankDirectory {
    private let dir: SoftTokenCore.BankDirectory

    init(dir: SoftTokenCore.BankDirectory) {
        self.dir = dir
    }

    var banks: [Bank] { dir.banks().map(Self.bank) }

    func find(serviceId: String) -> Bank? { dir.find(serviceId: serviceId).map(Self.bank) }

    func check(serviceId: String, serverURL: String) throws -> ServerCheck {
        switch try dir.checkServer(serviceId: serviceId, serverUrl: serverURL) {
        case let .known(bank): return .known(Self.bank(bank))
        case let .unknown(host): return .unknown(host: host)
        }
    }

    private static func bank(_ b: SoftTokenCore.Bank) -> Bank {
        Bank(serviceId: b.serviceId, name: b.name, serverURL: b.serverUrl)
    }
}
