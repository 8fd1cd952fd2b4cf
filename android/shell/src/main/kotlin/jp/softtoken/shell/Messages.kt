// What the app says to the customer, as message keys, never as text.
//
// The texts live in resources (Android `res/values*/strings.xml`, iOS `Localizable.strings`),
// Japanese first; the shell only chooses the key and its arguments. A JVM test checks every
// key exists in every language with the same placeholders.
package jp.softtoken.shell

/**
 * A message the app shows. [resourceName] is the Android string resource name and the iOS
 * `Localizable.strings` key. Arguments are substituted in order (`%1$d`, `%2$d`).
 */
enum class MessageKey(val resourceName: String, val argCount: Int = 0) {
    WRONG_PIN("error_wrong_pin", 1),
    WRONG_PIN_WAIT("error_wrong_pin_wait", 2),
    PIN_WAIT("error_pin_wait", 1),
    INVALID_PIN("error_invalid_pin"),
    PIN_MISMATCH("error_pin_mismatch"),
    LOCKED("error_locked"),
    WRONG_START_PASSWORD("error_wrong_start_password", 1),
    ENROLLMENT_LOCKED("error_enrollment_locked"),
    ENROLLMENT_EXPIRED("error_enrollment_expired"),
    ENROLLMENT_NOT_FOUND("error_enrollment_not_found"),
    INVALID_SERVICE_ID("error_invalid_service_id"),
    INVALID_USER_ID("error_invalid_user_id"),
    INVALID_START_PASSWORD("error_invalid_start_password"),
    INVALID_ACTIVATION_URI("error_invalid_activation_uri"),
    INVALID_INPUT("error_invalid_input"),
    REQUIRED_FIELD("error_required_field"),
    NETWORK("error_network"),
    REJECTED("error_rejected"),
    KEY_UNAVAILABLE("error_key_unavailable"),
    CORRUPT_VAULT("error_corrupt_vault"),
    TOKEN_NOT_FOUND("error_token_not_found"),
    KEY_LOST("error_key_lost"),
    VAULT_TOO_NEW("error_vault_too_new"),
    STORAGE("error_storage"),
    INTERNAL("error_internal"),
    NOT_CONFIGURED("error_registration_not_configured"),
    ACTIVATED("info_activated"),
    REGISTERED("info_registration_ready"),
    SERIAL_COPIED("info_serial_copied"),
    TOKEN_DELETED("info_token_deleted"),
    PIN_SET("info_pin_set"),
    PIN_CHANGED("info_pin_changed"),
    PIN_REMOVED("info_pin_removed"),
    APP_RESET("info_app_reset"),
    TIME_SYNCED("info_time_synced"),
    CODE_COPIED("info_code_copied", 1),
    LINK_AFTER_UNLOCK("info_link_after_unlock"),
    UNKNOWN_SERVICE_ID("error_unknown_service_id"),
    BIOMETRIC_ON("info_biometric_on"),
    BIOMETRIC_OFF("info_biometric_off"),
    BIOMETRY_CHANGED("error_biometry_changed"),
    BIOMETRIC_FAILED("error_biometric_failed"),
    SIGN_MALFORMED("error_sign_malformed"),
    SIGN_OTHER_BANK("error_sign_other_bank"),
    SIGN_REVOKED("error_sign_revoked"),
    SIGN_INVALID_DIGITS("error_sign_invalid_digits"),
    STATUS_PENDING("label_status_pending"),
    STATUS_ACTIVE("label_status_active"),
    STATUS_REVOKED("label_status_revoked"),
    STATUS_STOPPED("label_status_stopped"),
    STATUS_REPLACED("label_status_replaced"),
    DEAD_REVOKED("hint_dead_revoked"),
    DEAD_STOPPED("hint_dead_stopped"),
    DEAD_REPLACED("hint_dead_replaced"),
    STATES_UNREACHABLE("info_states_unreachable"),
    SCANNER_FAILED("error_scanner_failed"),
    CAMERA_DENIED("error_camera_denied"),
}

/** A message key with its arguments. */
data class Message(val key: MessageKey, val args: List<Long> = emptyList()) {
    init {
        require(args.size == key.argCount) { "${key.name} takes ${key.argCount} arguments" }
    }

    constructor(key: MessageKey, vararg args: Long) : this(key, args.toList())
}

/** The one place core failures and token states become customer messages. */
object Messages {
    /** The label of a token's state: 「利用中」 for an active one. */
    fun forStatus(status: TokenStatus): Message = Message(
        when (status) {
            TokenStatus.PENDING -> MessageKey.STATUS_PENDING
            TokenStatus.ACTIVE -> MessageKey.STATUS_ACTIVE
            TokenStatus.REVOKED -> MessageKey.STATUS_REVOKED
            TokenStatus.STOPPED -> MessageKey.STATUS_STOPPED
            TokenStatus.REPLACED -> MessageKey.STATUS_REPLACED
        },
    )

    /** Why a dead token shows no code and what to do about it; null for a live one. */
    fun whyDead(status: TokenStatus): Message? = when (status) {
        TokenStatus.REVOKED -> Message(MessageKey.DEAD_REVOKED)
        TokenStatus.STOPPED -> Message(MessageKey.DEAD_STOPPED)
        TokenStatus.REPLACED -> Message(MessageKey.DEAD_REPLACED)
        TokenStatus.PENDING, TokenStatus.ACTIVE -> null
    }

    /** The message for [failure]. */
    fun forFailure(failure: CoreFailure): Message = when (failure) {
        CoreFailure.InvalidPin -> Message(MessageKey.INVALID_PIN)
        is CoreFailure.WrongPin ->
            if (failure.retryAfterSeconds > 0) {
                Message(MessageKey.WRONG_PIN_WAIT, failure.attemptsLeft.toLong(), failure.retryAfterSeconds)
            } else {
                Message(MessageKey.WRONG_PIN, failure.attemptsLeft.toLong())
            }
        is CoreFailure.TooSoon -> Message(MessageKey.PIN_WAIT, failure.retryAfterSeconds)
        CoreFailure.Locked -> Message(MessageKey.LOCKED)
        is CoreFailure.WrongStartPassword ->
            Message(MessageKey.WRONG_START_PASSWORD, failure.attemptsLeft.toLong())
        CoreFailure.EnrollmentLocked -> Message(MessageKey.ENROLLMENT_LOCKED)
        CoreFailure.EnrollmentExpired -> Message(MessageKey.ENROLLMENT_EXPIRED)
        CoreFailure.EnrollmentNotFound -> Message(MessageKey.ENROLLMENT_NOT_FOUND)
        is CoreFailure.InvalidInput -> Message(
            when (failure.field) {
                InputField.SERVICE_ID -> MessageKey.INVALID_SERVICE_ID
                InputField.USER_ID -> MessageKey.INVALID_USER_ID
                InputField.START_PASSWORD -> MessageKey.INVALID_START_PASSWORD
                InputField.ACTIVATION_URI -> MessageKey.INVALID_ACTIVATION_URI
                InputField.SERIAL, null -> MessageKey.INVALID_INPUT
            },
        )
        is CoreFailure.Network -> Message(MessageKey.NETWORK)
        is CoreFailure.Rejected -> Message(MessageKey.REJECTED)
        CoreFailure.KeyUnavailable -> Message(MessageKey.KEY_UNAVAILABLE)
        CoreFailure.CorruptVault -> Message(MessageKey.CORRUPT_VAULT)
        CoreFailure.KeyLost -> Message(MessageKey.KEY_LOST)
        CoreFailure.VaultTooNew -> Message(MessageKey.VAULT_TOO_NEW)
        CoreFailure.Storage -> Message(MessageKey.STORAGE)
        CoreFailure.TokenNotFound -> Message(MessageKey.TOKEN_NOT_FOUND)
        is CoreFailure.Internal -> Message(MessageKey.INTERNAL)
    }
}
