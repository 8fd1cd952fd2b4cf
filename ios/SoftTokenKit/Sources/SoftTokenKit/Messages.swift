// Message keys, never texts: the texts are in App/Resources/*.lproj/Localizable.strings
// (Japanese first), the same keys as Android's strings.xml.
import Foundation

/// A message the app shows; `rawValue` is the Localizable.strings key.
public enum MessageKey: String, CaseIterable, Sendable {
    case wrongPin = "error_wrong_pin"
    case wrongPinWait = "error_wrong_pin_wait"
    case pinWait = "error_pin_wait"
    case invalidPin = "error_invalid_pin"
    case pinMismatch = "error_pin_mismatch"
    case locked = "error_locked"
    case wrongStartPassword = "error_wrong_start_password"
    case enrollmentLocked = "error_enrollment_locked"
    case enrollmentExpired = "error_enrollment_expired"
    case enrollmentNotFound = "error_enrollment_not_found"
    case invalidServiceId = "error_invalid_service_id"
    case invalidUserId = "error_invalid_user_id"
    case invalidStartPassword = "error_invalid_start_password"
    case invalidActivationURI = "error_invalid_activation_uri"
    case invalidInput = "error_invalid_input"
    case requiredField = "error_required_field"
    case network = "error_network"
    case rejected = "error_rejected"
    case keyUnavailable = "error_key_unavailable"
    case corruptVault = "error_corrupt_vault"
    case tokenNotFound = "error_token_not_found"
    case keyLost = "error_key_lost"
    case vaultTooNew = "error_vault_too_new"
    case storage = "error_storage"
    case internalError = "error_internal"
    case notConfigured = "error_registration_not_configured"
    case activated = "info_activated"
    case registered = "info_registration_ready"
    case serialCopied = "info_serial_copied"
    case tokenDeleted = "info_token_deleted"
    case pinSet = "info_pin_set"
    case pinChanged = "info_pin_changed"
    case pinRemoved = "info_pin_removed"
    case appReset = "info_app_reset"
    case timeSynced = "info_time_synced"
    case codeCopied = "info_code_copied"
    case linkAfterUnlock = "info_link_after_unlock"
    case unknownServiceId = "error_unknown_service_id"
    case biometricOn = "info_biometric_on"
    case biometricOff = "info_biometric_off"
    case biometryChanged = "error_biometry_changed"
    case biometricFailed = "error_biometric_failed"
    case signMalformed = "error_sign_malformed"
    case signOtherBank = "error_sign_other_bank"
    case signRevoked = "error_sign_revoked"
    case signInvalidDigits = "error_sign_invalid_digits"
    case statusPending = "label_status_pending"
    case statusActive = "label_status_active"
    case statusRevoked = "label_status_revoked"
    case statusStopped = "label_status_stopped"
    case statusReplaced = "label_status_replaced"
    case deadRevoked = "hint_dead_revoked"
    case deadStopped = "hint_dead_stopped"
    case deadReplaced = "hint_dead_replaced"
    case statesUnreachable = "info_states_unreachable"
    case scannerFailed = "error_scanner_failed"
    case cameraDenied = "error_camera_denied"
}

/// A message key with its arguments (`%1$ld`, `%2$ld`).
public struct Message: Equatable, Sendable {
    public let key: MessageKey
    public let args: [Int]

    public init(_ key: MessageKey, _ args: Int...) {
        self.key = key
        self.args = args
    }

    /// The label of a token's state: 「利用中」 for an active one.
    public static func forStatus(_ status: TokenStatus) -> Message {
        switch status {
        case .pending: return Message(.statusPending)
        case .active: return Message(.statusActive)
        case .revoked: return Message(.statusRevoked)
        case .stopped: return Message(.statusStopped)
        case .replaced: return Message(.statusReplaced)
        }
    }

    /// Why a dead token shows no code and what to do about it; nil for a live one.
    public static func whyDead(_ status: TokenStatus) -> Message? {
        switch status {
        case .revoked: return Message(.deadRevoked)
        case .stopped: return Message(.deadStopped)
        case .replaced: return Message(.deadReplaced)
        case .pending, .active: return nil
        }
    }

    /// The message for a core failure: the one place failures become words.
    public static func forFailure(_ failure: CoreFailure) -> Message {
        switch failure {
        case .invalidPin: return Message(.invalidPin)
        case let .wrongPin(attemptsLeft, retryAfterSeconds):
            return retryAfterSeconds > 0
                ? Message(.wrongPinWait, attemptsLeft, retryAfterSeconds)
                : Message(.wrongPin, attemptsLeft)
        case let .tooSoon(seconds): return Message(.pinWait, seconds)
        case .locked: return Message(.locked)
        case let .wrongStartPassword(attemptsLeft): return Message(.wrongStartPassword, attemptsLeft)
        case .enrollmentLocked: return Message(.enrollmentLocked)
        case .enrollmentExpired: return Message(.enrollmentExpired)
        case .enrollmentNotFound: return Message(.enrollmentNotFound)
        case let .invalidInput(field, _):
            switch field {
            case .serviceId: return Message(.invalidServiceId)
            case .userId: return Message(.invalidUserId)
            case .startPassword: return Message(.invalidStartPassword)
            case .activationURI: return Message(.invalidActivationURI)
            case .serial, nil: return Message(.invalidInput)
            }
        case .network: return Message(.network)
        case .rejected: return Message(.rejected)
        case .keyUnavailable: return Message(.keyUnavailable)
        case .corruptVault: return Message(.corruptVault)
        case .keyLost: return Message(.keyLost)
        case .vaultTooNew: return Message(.vaultTooNew)
        case .storage: return Message(.storage)
        case .tokenNotFound: return Message(.tokenNotFound)
        case .internal: return Message(.internalError)
        }
    }
}
