// Glue between SoftTokenKit's AppModel and SwiftUI: runs the model on one serial background
// queue and publishes its state on the main queue. No flow logic here.
import Foundation
import SoftTokenKit

/// Holds the app's model for the app's lifetime.
@MainActor
final class AppViewModel: ObservableObject {
    /// What the screens draw.
    @Published private(set) var state = UiState(screen: .opening)

    // One queue, in order: the model is not for concurrent calls, and PIN and network calls
    // block for up to seconds, so never on the main thread.
    private let queue = DispatchQueue(label: "jp.softtoken.core", qos: .userInitiated)
    private let model: AppModel
    private var timer: Timer?

    init() {
        let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        let info = Bundle.main.infoDictionary ?? [:]
        func setting(_ key: String) -> String? {
            (info[key] as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        model = AppModel(
            opener: FfiTokenCore.opener(directory: support.appendingPathComponent("SoftToken"), keys: KeychainKeyWrapper()),
            config: AppConfig(
                activationServer: setting("SoftTokenActivationServer"),
                registrationServer: setting("SoftTokenRegistrationServer"),
                registrationServiceId: setting("SoftTokenRegistrationService"),
                banks: Bundle.main.url(forResource: "banks", withExtension: "json")
                    .flatMap { try? String(contentsOf: $0, encoding: .utf8) }
                    .flatMap { try? FfiTokenCore.bankDirectory(json: $0) }),
            pasteboard: SystemPasteboard(),
            biometrics: SecureEnclaveBiometricKeys.shared)
        model.onChange = { [weak self] next in
            DispatchQueue.main.async { self?.state = next }
        }
        act { $0.start() }
        // The countdown: codes and the PIN back-off refresh every second.
        timer = Timer.scheduledTimer(withTimeInterval: 1, repeats: true) { [weak self] _ in
            Task { @MainActor in self?.act { $0.tick() } }
        }
    }

    /// Runs `action` on the model's queue.
    func act(_ action: @escaping (AppModel) -> Void) {
        let model = self.model
        queue.async { action(model) }
    }
}
