// The app lock: the lock screen, the PIN pad for set/change/off, reset and the broken vault.
import SwiftUI
import SoftTokenKit

/// A masked, digits-only PIN field with its button; cleared once submitted.
struct PinField: View {
    let enabled: Bool
    let submitTitle: String
    let onSubmit: (String) -> Void
    @State private var pin = ""

    var body: some View {
        VStack(spacing: 12) {
            SecureField("", text: $pin)
                .keyboardType(.numberPad)
                // No content type: the one-time-code type would offer SMS codes as the app lock PIN.
                .textContentType(nil)
                .multilineTextAlignment(.center)
                .font(.title)
                .onChange(of: pin) { typed in
                    // The pad offers digits only; the core still checks (1–32 ASCII digits).
                    let digits = String(typed.filter { ("0"..."9").contains($0) }.prefix(32))
                    if digits != typed { pin = digits }
                }
                .disabled(!enabled)
                .accessibilityLabel(L("lock_prompt"))
            Button(submitTitle) {
                let typed = pin
                pin = ""
                onSubmit(typed)
            }
            .buttonStyle(.borderedProminent)
            .disabled(!enabled || pin.isEmpty)
        }
    }
}

/// The lock screen.
struct UnlockView: View {
    let error: AppMessage?
    let waitSeconds: Int64
    let act: Act

    var body: some View {
        VStack(spacing: 16) {
            Text(L("lock_prompt")).font(.headline)
            PinField(enabled: waitSeconds == 0, submitTitle: L("action_unlock")) { pin in act(.unlock(pin: pin)) }
            ErrorLine(message: error)
            if waitSeconds > 0 { Text(L("error_pin_wait", Int(waitSeconds))).foregroundStyle(.red).font(.callout) }
            Button(L("action_forgot_pin")) { act(.forgotPin) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_app_lock"))
    }
}

/// Set, change or turn off the app lock, one PIN per step.
struct PinEntryView: View {
    let purpose: PinPurpose
    let step: PinStep
    let error: AppMessage?
    let act: Act

    var body: some View {
        VStack(spacing: 16) {
            switch step {
            case .current: Text(L("pin_current")).font(.headline)
            case .new: Text(L("pin_new")).font(.headline)
            case .confirm: Text(L("pin_confirm")).font(.headline)
            }
            // A fresh field per step: the previous step's digits are never shown again.
            PinField(enabled: true, submitTitle: L("action_confirm")) { pin in act(.enterPin(pin: pin)) }
                .id(step)
            ErrorLine(message: error)
            if step == .new { Text(L("pin_forget_warning")).font(.caption) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_app_lock"))
        .toolbar { BackButton(act: act) }
    }
}

/// Reset: every token of every bank and the PIN are deleted.
struct ConfirmResetView: View {
    let act: Act

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text(L("reset_warning"))
            Button(L("action_reset"), role: .destructive) { act(.confirmReset) }
            Button(L("action_cancel")) { act(.back) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_reset"))
        .toolbar { BackButton(act: act) }
    }
}

/// The vault cannot be opened: try again, or reset.
struct BrokenView: View {
    let message: AppMessage
    let act: Act

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            ErrorLine(message: message)
            Button(L("action_retry")) { act(.retry) }
            Button(L("action_reset"), role: .destructive) { act(.requestReset) }
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_broken"))
    }
}
