// 設定: app lock on/off, change the PIN, reset the app.
import SwiftUI
import SoftTokenKit

/// The settings list.
struct SettingsView: View {
    let lockOn: Bool
    let act: Act

    var body: some View {
        List {
            Toggle(L("setting_app_lock"), isOn: Binding(
                get: { lockOn },
                set: { on in act { on ? $0.beginSetPin() : $0.beginRemovePin() } }))
            if lockOn {
                Button(L("setting_change_pin")) { act { $0.beginChangePin() } }
            }
            Section {
                Button(L("setting_reset"), role: .destructive) { act { $0.requestReset() } }
            }
        }
        .navigationTitle(L("title_settings"))
        .toolbar { BackButton(act: act) }
    }
}
