// Chooses the screen to draw from the model's state. Navigation is the model's.
import SwiftUI
import SoftTokenKit

/// Sends an event to the core (on the model's queue).
typealias Act = (AppEvent) -> Void

/// The whole app: one screen at a time.
struct RootView: View {
    let view: AppView
    let act: Act

    var body: some View {
        NavigationStack {
            screen
                .disabled(view.busy)
                .overlay { if view.busy { ProgressView().accessibilityLabel(L("label_busy")) } }
                .safeAreaInset(edge: .bottom) { NoticeBar(notice: view.notice, act: act) }
        }
    }

    @ViewBuilder private var screen: some View {
        switch view.screen {
        case .opening: ProgressView()
        case let .unlock(error, waitSeconds, biometric):
            UnlockView(error: error, waitSeconds: waitSeconds, act: act)
            if biometric { BiometricUnlockButton(act: act) }
        case let .tokens(cards): TokenListView(cards: cards, act: act)
        case .addToken: AddTokenView(act: act)
        case let .activation(serviceId, userId, _, error, errorField, banks):
            ActivationView(form: ActivationForm(serviceId: serviceId, userId: userId, error: error,
                                                errorField: errorField, banks: banks), act: act)
        case let .activationDone(token): ActivationDoneView(token: token, act: act)
        case let .tokenDetail(card, firstUse): TokenDetailView(card: card, firstUse: firstUse, act: act)
        case let .confirmDelete(token): ConfirmDeleteView(token: token, act: act)
        case let .confirmServer(_, host): ConfirmServerView(host: host, act: act)
        case let .settings(lockOn, biometricOn, biometricAvailable):
            SettingsView(lockOn: lockOn, biometricOn: biometricOn, biometricAvailable: biometricAvailable, act: act)
        case let .pinEntry(purpose, step, error): PinEntryView(purpose: purpose, step: step, error: error, act: act)
        case .confirmReset: ConfirmResetView(act: act)
        case let .signConfirm(transfer, token): SignConfirmView(transfer: transfer, token: token, act: act)
        case let .signManual(token, error): SignManualView(token: token, error: error, act: act)
        case let .signCode(transfer, typedDigits, code, _, countdown, remaining):
            SignCodeView(transfer: transfer, typedDigits: typedDigits, code: code, countdown: countdown, remaining: remaining, act: act)
        case let .signRefused(message): SignRefusedView(message: message, act: act)
        case let .broken(message): BrokenView(message: message, act: act)
        }
    }
}

/// A back button for screens below the root (the model keeps the stack).
struct BackButton: ToolbarContent {
    let act: Act
    var body: some ToolbarContent {
        ToolbarItem(placement: .navigationBarLeading) {
            Button(L("action_back")) { act(.back) }
        }
    }
}

/// The passing notice, announced by VoiceOver.
struct NoticeBar: View {
    let notice: AppMessage?
    let act: Act

    var body: some View {
        if let notice {
            Text(notice.text)
                .padding()
                .frame(maxWidth: .infinity)
                .background(.thinMaterial)
                .onAppear {
                    UIAccessibility.post(notification: .announcement, argument: notice.text)
                    DispatchQueue.main.asyncAfter(deadline: .now() + 4) { act(.dismissNotice) }
                }
        }
    }
}

/// An error line under a form.
struct ErrorLine: View {
    let message: AppMessage?
    var body: some View {
        if let message {
            Text(message.text).foregroundStyle(.red).font(.callout)
        }
    }
}
