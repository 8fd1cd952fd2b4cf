// The iOS shell over the Rust app model (`AppCore`, DESIGN.md §9; twin of android/shell):
// events in, a view out. What each tap does and which screen follows live in
// crates/core/src/app and are tested there (`cargo test -p softtoken-core`); here only the
// threading and the platform's effects (Pasteboard, BiometricKeys, PlatformKeyWrapper).
import Foundation
@_exported import SoftTokenCore

/// The app build's settings (Info.plist and the bundle's banks.json).
public struct ShellConfig: Sendable {
    public let activationServer: String?
    public let registrationServer: String?
    public let registrationServiceId: String?
    /// The bundle's bank directory (JSON); nil: none (every QR server is asked about).
    public let bankDirectoryJson: String?
    /// "en" for English texts; anything else Japanese.
    public let language: String

    public init(activationServer: String?, registrationServer: String?, registrationServiceId: String?,
                bankDirectoryJson: String?, language: String) {
        self.activationServer = activationServer
        self.registrationServer = registrationServer
        self.registrationServiceId = registrationServiceId
        self.bankDirectoryJson = bankDirectoryJson
        self.language = language
    }
}

/// The app's model for SwiftUI: publishes the core's view on the main queue and forwards
/// events to the core on one serial queue.
@MainActor
public final class AppModel: ObservableObject {
    /// The vault's file in its directory (the name earlier versions used: their vaults open).
    public static let vaultFile = "tokens.vault"
    /// What the screens draw.
    @Published public private(set) var view = AppView(screen: .opening, busy: false, refreshing: false,
                                                      notice: nil, canGoBack: false)

    // One queue, in order: `send` blocks (PIN key derivation, network) for up to seconds, so
    // never on the main thread, and events keep the order they were made in.
    nonisolated private let queue = DispatchQueue(label: "jp.softtoken.core", qos: .userInitiated)
    nonisolated private let slot: CoreSlot
    private var timer: Timer?

    /// The model over the vault in `directory` (made, and kept out of backups: its key is this
    /// device's). `makeCore` is `AppCore.init` (tests pass `AppCore.withClock`). The core is
    /// made on the queue by `start`; if it cannot be (no room for the directory, an unreadable
    /// bank directory), the broken screen's Retry tries again.
    public init(directory: URL, config: ShellConfig, keys: PlatformKeyWrapper, pasteboard: Pasteboard,
                biometrics: BiometricKeys,
                makeCore: @escaping (AppSettings, KeyWrapper, AppShell) throws -> AppCore = { try AppCore(settings: $0, keyWrapper: $1, shell: $2) }) {
        weak var weakSelf: AppModel?
        let shell = ShellBridge(pasteboard: pasteboard, biometrics: biometrics) { next in
            DispatchQueue.main.async { weakSelf?.view = next }
        }
        let settings = AppSettings(
            vaultPath: directory.appendingPathComponent(Self.vaultFile).path,
            activationServer: config.activationServer, registrationServer: config.registrationServer,
            registrationServiceId: config.registrationServiceId,
            bankDirectoryJson: config.bankDirectoryJson, language: config.language)
        slot = CoreSlot(make: {
            try Self.prepare(directory)
            return try makeCore(settings, KeyWrapperBridge(keys: keys), shell)
        }, broken: {
            // A broken build or device, said as such; the text is the app bundle's
            // (Localizable.strings), the cause stays out of the customer's sight.
            let text = NSLocalizedString("error_internal", bundle: .main, comment: "")
            let view = AppView(screen: .broken(message: AppMessage(key: "error_internal", args: [], text: text)),
                               busy: false, refreshing: false, notice: nil, canGoBack: false)
            DispatchQueue.main.async { weakSelf?.view = view }
        })
        weakSelf = self
    }

    /// Opens the vault and starts the 1 s tick (codes, countdowns, the PIN back-off, the
    /// clipboard's clear and the background lock are the core's).
    public func start() {
        send(.start)
        timer?.invalidate()
        timer = Timer.scheduledTimer(withTimeInterval: 1, repeats: true) { [weak self] _ in
            Task { @MainActor in self?.send(.tick) }
        }
    }

    /// Sends `event` to the core on the model's queue; callable from any thread.
    nonisolated public func send(_ event: AppEvent) {
        queue.async { [slot] in slot.send(event) }
    }

    // The vault's directory, out of backups: a vault restored onto any phone could never open.
    nonisolated private static func prepare(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var folder = directory
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try folder.setResourceValues(values)
    }
}

/// The core, made and used only on the model's queue (hence unchecked); made on Start, and
/// again on Retry while making it fails.
private final class CoreSlot: @unchecked Sendable {
    private var core: AppCore?
    private let make: () throws -> AppCore
    private let broken: () -> Void

    init(make: @escaping () throws -> AppCore, broken: @escaping () -> Void) {
        self.make = make
        self.broken = broken
    }

    func send(_ event: AppEvent) {
        if let core { return core.send(event: event) }
        switch event {
        case .start, .retry:
            do {
                let made = try make()
                core = made
                made.send(event: .start)
            } catch {
                broken()
            }
        default:
            return
        }
    }
}
