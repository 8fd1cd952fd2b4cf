// The app: one window, the screen the model says, locked when it leaves the foreground.
import SwiftUI
import SoftTokenKit

@main
struct SoftTokenApp: App {
    @StateObject private var model = AppModel.live()
    @Environment(\.scenePhase) private var scenePhase

    var body: some Scene {
        WindowGroup {
            RootView(view: model.view, act: model.send)
                // iOS has no FLAG_SECURE: cover codes and serials whenever the app is not
                // active, so the app-switcher snapshot never shows them.
                .overlay { if scenePhase != .active { PrivacyCover() } }
                // Opens the vault and starts the 1 s tick, once.
                .task { model.start() }
                // softtoken://activate?… from the bank's e-mail opens the filled-in form.
                .onOpenURL { url in model.send(.scanned(uri: url.absoluteString)) }
        }
        .onChange(of: scenePhase) { phase in
            // The core locks after its grace period: on a tick in the background, or on return.
            if phase == .background { model.send(.background) }
            if phase == .active { model.send(.foreground) }
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
