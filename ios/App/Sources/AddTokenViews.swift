// Adding a token: the choice of mode, 初期設定 (with QR scanning) and 初期設定完了.
import AVFoundation
import SwiftUI
import VisionKit
import SoftTokenKit

/// The two ways to add a token.
struct AddTokenView: View {
    let act: Act

    var body: some View {
        List {
            Button { act(.startActivation) } label: {
                VStack(alignment: .leading) {
                    Text(L("add_by_start_password")).font(.headline)
                    Text(L("add_by_start_password_hint")).font(.subheadline)
                }
            }
            Button { act(.startRegistration) } label: {
                VStack(alignment: .leading) {
                    Text(L("add_by_serial")).font(.headline)
                    Text(L("add_by_serial_hint")).font(.subheadline)
                }
            }
        }
        .navigationTitle(L("title_add_token"))
        .toolbar { BackButton(act: act) }
    }
}

/// The activation form's state from the core's `AppScreen.activation`.
struct ActivationForm: Equatable {
    var serviceId: String
    var userId: String
    var error: AppMessage?
    var errorField: InputField?
    /// The app build's banks, for the picker that fills `serviceId`.
    var banks: [BankChoice]
}

/// 初期設定: service ID, user ID, start password, or the bank's QR code for the first two.
/// The start password lives only in this view's state and is cleared once sent.
struct ActivationView: View {
    let form: ActivationForm
    let act: Act
    @State private var serviceId = ""
    @State private var userId = ""
    @State private var password = ""
    @State private var scanning = false

    var body: some View {
        Form {
            Section {
                Button(L("action_scan_qr")) { QRScannerView.open(act: act) { scanning = true } }
                Text(L("qr_camera_hint")).font(.caption)
            }
            Section {
                // The picker of the bundle's bank directory fills the service ID.
                if !form.banks.isEmpty {
                    Picker(L("label_bank"), selection: $serviceId) {
                        ForEach(form.banks, id: \.serviceId) { bank in Text(bank.name).tag(bank.serviceId) }
                    }
                }
                TextField(L("label_service_id"), text: $serviceId)
                    .textInputAutocapitalization(.never).autocorrectionDisabled()
                    .foregroundStyle(form.errorField == .serviceId ? .red : .primary)
                TextField(L("label_user_id"), text: $userId)
                    .textInputAutocapitalization(.never).autocorrectionDisabled()
                    .foregroundStyle(form.errorField == .userId ? .red : .primary)
                SecureField(L("label_start_password"), text: $password)
                    .foregroundStyle(form.errorField == .startPassword ? .red : .primary)
                ErrorLine(message: form.error)
            }
            Button(L("action_send")) {
                let typed = password
                password = ""
                let service = serviceId, user = userId
                act(.submitActivation(serviceId: service, userId: user, startPassword: typed))
            }
        }
        .onAppear { serviceId = form.serviceId; userId = form.userId }
        .onChange(of: form) { next in serviceId = next.serviceId; userId = next.userId }
        .sheet(isPresented: $scanning, onDismiss: { act(.scanCancelled) }) {
            QRScannerView(onScanned: { text in
                scanning = false
                act(.scanned(uri: text))
            }, onFailed: {
                scanning = false
                act(.scanFailed(cameraDenied: false))
            })
        }
        .navigationTitle(L("title_activation"))
        .toolbar { BackButton(act: act) }
    }
}

/// 初期設定完了: finished only once the first code is confirmed in internet banking.
struct ActivationDoneView: View {
    let token: TokenSummary
    let act: Act

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text(token.issuer).font(.headline)
            Text(L("activation_done_body"))
            Button(L("action_next")) { act(.continueAfterActivation) }.buttonStyle(.borderedProminent)
            Spacer()
        }
        .padding()
        .navigationTitle(L("title_activation_done"))
    }
}

/// Scans one QR code with VisionKit's data scanner (iOS 16+, devices with a camera).
struct QRScannerView: UIViewControllerRepresentable {
    let onScanned: (String) -> Void
    /// The scanner could not start: the sheet closes and the model shows why.
    let onFailed: () -> Void

    /// Opens the scanner (`show`) once the camera may be used: asks the first time; a refused
    /// or restricted camera, or a device without a usable one, becomes a notice that says what
    /// to do (the typed form stays), never a silently dead button.
    @MainActor
    static func open(act: Act, show: @escaping () -> Void) {
        let showIfSupported = {
            if DataScannerViewController.isSupported && DataScannerViewController.isAvailable {
                // Leaving for the camera is not leaving: the core's longer lock grace.
                act(.scanStarted)
                show()
            } else {
                act(.scanFailed(cameraDenied: false))
            }
        }
        switch AVCaptureDevice.authorizationStatus(for: .video) {
        case .authorized:
            showIfSupported()
        case .notDetermined:
            AVCaptureDevice.requestAccess(for: .video) { granted in
                DispatchQueue.main.async {
                    if granted { showIfSupported() } else { act(.scanFailed(cameraDenied: true)) }
                }
            }
        case .denied, .restricted:
            act(.scanFailed(cameraDenied: true))
        @unknown default:
            act(.scanFailed(cameraDenied: true))
        }
    }

    func makeUIViewController(context: Context) -> DataScannerViewController {
        let scanner = DataScannerViewController(recognizedDataTypes: [.barcode(symbologies: [.qr])],
                                                qualityLevel: .balanced, isHighlightingEnabled: true)
        scanner.delegate = context.coordinator
        do {
            try scanner.startScanning()
        } catch {
            // Not on the view update itself: the sheet's binding changes on the next turn.
            DispatchQueue.main.async { onFailed() }
        }
        return scanner
    }

    func updateUIViewController(_ controller: DataScannerViewController, context: Context) {}

    func makeCoordinator() -> Coordinator { Coordinator(onScanned: onScanned) }

    final class Coordinator: NSObject, DataScannerViewControllerDelegate {
        let onScanned: (String) -> Void
        private var done = false

        init(onScanned: @escaping (String) -> Void) {
            self.onScanned = onScanned
        }

        func dataScanner(_ scanner: DataScannerViewController, didAdd items: [RecognizedItem], allItems: [RecognizedItem]) {
            for case let .barcode(code) in items {
                guard !done, let text = code.payloadStringValue else { continue }
                done = true
                scanner.stopScanning()
                onScanned(text)
            }
        }
    }
}
