// What the app shows, screen by screen, as plain values SwiftUI draws (twin of Screens.kt).
import Foundation

/// A token with the code it shows now: `code` is nil for a dead token (revoked, stopped,
/// replaced), and `whyDead` then says why and what to do.
public struct TokenCard: Equatable, Sendable, Identifiable {
    public let token: TokenSummary
    public let code: CodeView?
    public var id: String { token.serial }
    /// The state's label (「利用中」, トークン失効…; docs/glossary.toml).
    public var status: Message { Message.forStatus(token.status) }
    /// Why there is no code and what to do (contact the bank, activate again); nil if alive.
    public var whyDead: Message? { Message.whyDead(token.status) }
}

/// Which mode just created a token, so its screen explains the next step.
public enum FirstUse: Equatable, Sendable { case activation, registration }

/// What a PIN screen is for.
public enum PinPurpose: Equatable, Sendable { case set, change, remove, biometric }

/// Which PIN a PIN screen asks for.
public enum PinStep: Equatable, Sendable { case current, new, confirm }

/// One screen of the app.
public enum Screen: Equatable, Sendable {
    case opening
    /// App lock; `waitSeconds` > 0 disables the pad for that long; `biometric` offers Face ID.
    case unlock(error: Message?, waitSeconds: Int, biometric: Bool)
    /// Home; empty shows the welcome.
    case tokens([TokenCard])
    case addToken
    /// 初期設定 form; `scannedServer` comes from a QR code. No password is kept.
    case activation(ActivationForm)
    /// 初期設定完了.
    case activationDone(TokenSummary)
    /// A QR code or link for a server the bank directory does not list: shown, and asked.
    case confirmServer(ActivationTarget, host: String)
    case tokenDetail(TokenCard, firstUse: FirstUse?)
    case confirmDelete(TokenSummary)
    case settings(lockOn: Bool, biometricOn: Bool, biometricAvailable: Bool)
    case pinEntry(purpose: PinPurpose, step: PinStep, error: Message?)
    case confirmReset
    /// 取引確認: the scanned transfer (振込先, 金額 large) and the token that will answer.
    case signConfirm(TransferRequest, token: TokenSummary)
    /// 取引確認 without a camera: the digits typed from the bank's screen, for `token`.
    case signManual(token: TokenSummary, error: Message?)
    /// The transfer's code; `transfer` is nil in manual mode; at 0 s `code` is nil.
    case signCode(SignCode)
    /// No code for this challenge, and why.
    case signRefused(Message)
    case broken(Message)
}

/// The 取引確認 code on screen. Its description hides the code: it confirms a payment.
public struct SignCode: Equatable, Sendable, CustomStringConvertible {
    public var transfer: TransferRequest?
    public var typedDigits: String?
    public var code: String?
    public var secondsLeft: Int

    public var description: String { "SignCode(transfer: \(transfer?.id ?? "-"), secondsLeft: \(secondsLeft))" }
}

/// The activation form's state.
public struct ActivationForm: Equatable, Sendable {
    public var serviceId: String
    public var userId: String
    public var scannedServer: String?
    public var error: Message?
    public var errorField: InputField?
    /// The app build's banks, for the picker that fills `serviceId`.
    public var banks: [Bank] = []

    public static let empty = ActivationForm(serviceId: "", userId: "", scannedServer: nil, error: nil, errorField: nil)
}

/// Everything drawn.
public struct UiState: Equatable, Sendable {
    public var screen: Screen
    public var busy: Bool
    public var notice: Message?

    public init(screen: Screen, busy: Bool = false, notice: Message? = nil) {
        self.screen = screen
        self.busy = busy
        self.notice = notice
    }
}
