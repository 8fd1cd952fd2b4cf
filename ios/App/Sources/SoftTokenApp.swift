// The app: one window, the screen the model says, locked when it leaves the foreground.
import SwiftUI
import SoftTokenKit

@main
struct SoftTokenApp: App {
    @StateObject private var viewModel = AppViewModel()
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView(state: viewModel.state, act: viewModel.act)
                // iOS has no FLAG_SECURE: cover codes and serials whenever the app is not
                // active, so the app-switcher snapshot never shows them.
                .overlay { if scenePhase != .active { PrivacyCover() } }
                // softtoken://activate?… from the bank's e-mail opens the filled-in form.
                .onOpenURL { url in viewModel.act { $0.scanned(uri: url.absoluteString) } }
        }
        .onChange(of: scenePhase) { phase in
            // Locks after the model's grace period: on a tick in the background, or here.
            if phase == .background { viewModel.act { $0.onBackground() } }
            if phase == .active { viewModel.act { $0.onForeground() } }
        }
    }
}

/// What the app switcher shows instead of the codes.
struct PrivacyCover: View {
    var body: some View {
        ZStack {
            Color(.systemBackground).ignoresSafeArea()
            Image(systemName: "lock.shield").font(.system(size: 64)).foregroundStyle(.secondary)
        }
        .accessibilityHidden(true)
    }
}
