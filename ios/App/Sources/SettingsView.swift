// 設定: app lock on/off, change the PIN, reset the app.
import SwiftUI
import SoftTokenKit

/// The settings list.
struct SettingsView: View {
    let lockOn: Bool
    let biometricOn: Bool
    let biometricAvailable: Bool
    let act: Act

    var body: some View {
        List {
            Toggle(L("setting_app_lock"), isOn: Binding(
                get: { lockOn },
                set: { on in act(on ? .beginSetPin : .beginRemovePin) }))
            if lockOn {
                Button(L("setting_change_pin")) { act(.beginChangePin) }
                if biometricAvailable {
                    Toggle(L("label_biometric"), isOn: Binding(
                        get: { biometricOn },
                        set: { on in act(on ? .beginEnableBiometric : .disableBiometric) }))
                }
            }
            Section {
                Button(L("setting_reset"), role: .destructive) { act(.requestReset) }
            }
        }
        .navigationTitle(L("title_settings"))
        .toolbar { BackButton(act: act) }
    }
}

/// A QR code or link for a server the bank directory does not list: its host, and a choice.
struct ConfirmServerView: View {
    let host: String
    let act: Act

    var body: some View {
        VStack(spacing: 16) {
            Text(String(format: L("confirm_server_text"), host))
            Button(L("action_continue")) { act(.confirmServer) }
            Button(L("action_cancel"), role: .cancel) { act(.back) }
        }
        .padding()
        .navigationTitle(L("title_confirm_server"))
    }
}

/// Face ID / Touch ID beside the PIN pad: the Secure Enclave key's prompt, its outcome to the core.
struct BiometricUnlockButton: View {
    let act: Act

    var body: some View {
        Button(L("action_biometric_unlock")) {
            let reason = L("biometric_prompt_title")
            // The prompt and the Secure Enclave decrypt block until Face ID ends: off the main
            // thread (the UI stays live), and off the model's queue (its 1 s tick goes on).
            DispatchQueue.global(qos: .userInitiated).async {
                let outcome = SecureEnclaveBiometricKeys.shared.unlock(reason: reason)
                act(.biometric(outcome: outcome))
            }
        }
    }
}
