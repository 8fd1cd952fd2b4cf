// The app's model as the device runs it: SoftTokenKit's AppModel over the Keychain / Secure
// Enclave, the general pasteboard and the Info.plist settings. No flow logic here.
import Foundation
import SoftTokenKit

extension AppModel {
    /// The model for this device, its vault in Application Support/SoftToken.
    static func live() -> AppModel {
        let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        let info = Bundle.main.infoDictionary ?? [:]
        func setting(_ key: String) -> String? {
            (info[key] as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        let config = ShellConfig(
            activationServer: setting("SoftTokenActivationServer"),
            registrationServer: setting("SoftTokenRegistrationServer"),
            registrationServiceId: setting("SoftTokenRegistrationService"),
            bankDirectoryJson: Bundle.main.url(forResource: "banks", withExtension: "json")
                .flatMap { try? String(contentsOf: $0, encoding: .utf8) },
            // The core's texts in the app's language (Localizable.strings has ja and en).
            language: Bundle.main.preferredLocalizations.first == "en" ? "en" : "ja")
        return AppModel(directory: support.appendingPathComponent("SoftToken"), config: config,
                        keys: KeychainKeyWrapper(), pasteboard: SystemPasteboard(),
                        biometrics: SecureEnclaveBiometricKeys.shared)
    }
}
