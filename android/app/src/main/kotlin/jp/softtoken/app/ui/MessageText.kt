// Message keys from the shell, resolved from string resources (Japanese by default).
package jp.softtoken.app.ui

import androidx.annotation.StringRes
import androidx.compose.runtime.Composable
import androidx.compose.ui.res.stringResource
import jp.softtoken.app.R
import jp.softtoken.shell.Message
import jp.softtoken.shell.MessageKey

/** The text of [message] in the device language. */
@Composable
fun messageText(message: Message): String =
    stringResource(resourceOf(message.key), *message.args.toTypedArray())

// Exhaustive, so a key without a resource does not compile.
@StringRes
private fun resourceOf(key: MessageKey): Int = when (key) {
    MessageKey.WRONG_PIN -> R.string.error_wrong_pin
    MessageKey.WRONG_PIN_WAIT -> R.string.error_wrong_pin_wait
    MessageKey.PIN_WAIT -> R.string.error_pin_wait
    MessageKey.INVALID_PIN -> R.string.error_invalid_pin
    MessageKey.PIN_MISMATCH -> R.string.error_pin_mismatch
    MessageKey.LOCKED -> R.string.error_locked
    MessageKey.WRONG_START_PASSWORD -> R.string.error_wrong_start_password
    MessageKey.ENROLLMENT_LOCKED -> R.string.error_enrollment_locked
    MessageKey.ENROLLMENT_EXPIRED -> R.string.error_enrollment_expired
    MessageKey.ENROLLMENT_NOT_FOUND -> R.string.error_enrollment_not_found
    MessageKey.INVALID_SERVICE_ID -> R.string.error_invalid_service_id
    MessageKey.INVALID_USER_ID -> R.string.error_invalid_user_id
    MessageKey.INVALID_START_PASSWORD -> R.string.error_invalid_start_password
    MessageKey.INVALID_ACTIVATION_URI -> R.string.error_invalid_activation_uri
    MessageKey.INVALID_INPUT -> R.string.error_invalid_input
    MessageKey.REQUIRED_FIELD -> R.string.error_required_field
    MessageKey.NETWORK -> R.string.error_network
    MessageKey.REJECTED -> R.string.error_rejected
    MessageKey.KEY_UNAVAILABLE -> R.string.error_key_unavailable
    MessageKey.CORRUPT_VAULT -> R.string.error_corrupt_vault
    MessageKey.TOKEN_NOT_FOUND -> R.string.error_token_not_found
    MessageKey.INTERNAL -> R.string.error_internal
    MessageKey.NOT_CONFIGURED -> R.string.error_registration_not_configured
    MessageKey.ACTIVATED -> R.string.info_activated
    MessageKey.REGISTERED -> R.string.info_registration_ready
    MessageKey.SERIAL_COPIED -> R.string.info_serial_copied
    MessageKey.TOKEN_DELETED -> R.string.info_token_deleted
    MessageKey.PIN_SET -> R.string.info_pin_set
    MessageKey.PIN_CHANGED -> R.string.info_pin_changed
    MessageKey.PIN_REMOVED -> R.string.info_pin_removed
    MessageKey.APP_RESET -> R.string.info_app_reset
    MessageKey.TIME_SYNCED -> R.string.info_time_synced
    MessageKey.KEY_LOST -> R.string.error_key_lost
    MessageKey.VAULT_TOO_NEW -> R.string.error_vault_too_new
    MessageKey.STORAGE -> R.string.error_storage
    MessageKey.CODE_COPIED -> R.string.info_code_copied
    MessageKey.LINK_AFTER_UNLOCK -> R.string.info_link_after_unlock
    MessageKey.UNKNOWN_SERVICE_ID -> R.string.error_unknown_service_id
    MessageKey.BIOMETRIC_ON -> R.string.info_biometric_on
    MessageKey.BIOMETRIC_OFF -> R.string.info_biometric_off
    MessageKey.BIOMETRY_CHANGED -> R.string.error_biometry_changed
    MessageKey.BIOMETRIC_FAILED -> R.string.error_biometric_failed
    MessageKey.SIGN_MALFORMED -> R.string.error_sign_malformed
    MessageKey.SIGN_OTHER_BANK -> R.string.error_sign_other_bank
    MessageKey.SIGN_REVOKED -> R.string.error_sign_revoked
    MessageKey.SIGN_INVALID_DIGITS -> R.string.error_sign_invalid_digits
    MessageKey.STATUS_PENDING -> R.string.label_status_pending
    MessageKey.STATUS_ACTIVE -> R.string.label_status_active
    MessageKey.STATUS_REVOKED -> R.string.label_status_revoked
    MessageKey.STATUS_STOPPED -> R.string.label_status_stopped
    MessageKey.STATUS_REPLACED -> R.string.label_status_replaced
    MessageKey.DEAD_REVOKED -> R.string.hint_dead_revoked
    MessageKey.DEAD_STOPPED -> R.string.hint_dead_stopped
    MessageKey.DEAD_REPLACED -> R.string.hint_dead_replaced
    MessageKey.STATES_UNREACHABLE -> R.string.info_states_unreachable
    MessageKey.SCANNER_FAILED -> R.string.error_scanner_failed
    MessageKey.CAMERA_DENIED -> R.string.error_camera_denied
}
