// The seam between the app's flows and the Rust token core.
//
// Everything the shell needs from the core, in the shell's own types. Only `FfiTokenCore`
// knows the generated binding names, so a change in the FFI surface is a change in one file,
// and the Compose screens never import the bindings.
package jp.softtoken.shell

/** Where a token is in its life, as the app knows it. */
enum class TokenStatus {
    /** Activated or provisioned; the bank has not yet confirmed or registered its first code. */
    PENDING,

    /** In use. */
    ACTIVE,

    /** Revoked by the bank (トークン失効); kept only so the customer sees what happened. */
    REVOKED,

    /** The bank stopped OTP for the customer (利用中止): dead, like a revoked token. */
    STOPPED,

    /** A newer token took its place (re-activation, 機種変更): dead, its twin lives on. */
    REPLACED,
    ;

    /** A dead token never shows a code again and can only be deleted. */
    val dead: Boolean get() = this == REVOKED || this == STOPPED || this == REPLACED
}

/** One token as a list shows it: never its seed. */
data class TokenSummary(
    /** The serial number without spaces (`SKTS12345678`): the token's identity. */
    val serial: String,
    /** The serial grouped for reading and typing (`SKTS 1234 5678`). */
    val serialGrouped: String,
    /** The bank's display name. */
    val issuer: String,
    /** The customer's label for it (the user ID at activation); may be empty. */
    val label: String,
    /** Life-cycle state. */
    val status: TokenStatus,
    /** Code length: 6 or 8. */
    val digits: Int,
    /** Seconds each code lasts. */
    val periodSeconds: Int,
    /** The bank's service ID: a transfer challenge is answered by a token of its service. */
    val serviceId: String = "",
)

/** What a token shows at one moment. `toString` hides the codes: they authenticate payments. */
class CodeSnapshot(
    /** The code valid now, exactly `digits` long. */
    val code: String,
    /** [code] grouped by the core for reading and typing: `123 456`, `1234 5678`. */
    val codeGrouped: String,
    /** Seconds until [code] is replaced: 1 to [periodSeconds]. */
    val secondsLeft: Int,
    /** The step length in seconds. */
    val periodSeconds: Int,
    /** The next step's code. */
    val nextCode: String,
    /** [nextCode], grouped like [codeGrouped]. */
    val nextCodeGrouped: String,
) {
    override fun toString(): String = "CodeSnapshot(secondsLeft=$secondsLeft, periodSeconds=$periodSeconds)"
}

/** What an activation URI (the QR code the bank shows) points at. Never holds a password. */
data class ActivationTarget(
    /** The activation server, `https://…`. */
    val serverUrl: String,
    /** The bank's service ID (サービスID). */
    val serviceId: String,
    /** The customer's user ID (ユーザID). */
    val userId: String,
)

/**
 * A transfer the bank asks the customer to confirm (取引確認), read from its QR code. The
 * account is only kept masked, as the bank's screen shows it.
 */
data class TransferRequest(
    /** The bank (service) that asks: only its token can answer. */
    val serviceId: String,
    /** The challenge's id. */
    val id: String,
    /** The payee's name (振込先). */
    val payeeName: String,
    /** The payee's account with all but its last four characters masked. */
    val maskedAccount: String,
    /** The amount with its currency, grouped for people (金額): `50,000 JPY`. */
    val displayAmount: String,
    /** The scanned payload, signed once the customer confirms. */
    val payload: String,
)

/**
 * Why a core call failed, in the terms the app acts on. Converted from the FFI error in one
 * place ([FfiTokenCore]); turned into a customer message in one place ([Messages]).
 */
sealed class CoreFailure {
    /** A PIN that is not 1–32 ASCII digits. Never counted as an attempt. */
    data object InvalidPin : CoreFailure()

    /** A wrong PIN; [retryAfterSeconds] > 0 means the next try must wait. */
    data class WrongPin(val attemptsLeft: Int, val retryAfterSeconds: Long) : CoreFailure()

    /** A PIN tried before the back-off ended. */
    data class TooSoon(val retryAfterSeconds: Long) : CoreFailure()

    /** The app lock is on and the vault is locked: the PIN must be entered first. */
    data object Locked : CoreFailure()

    /** The start password (利用開始パスワード) is wrong. */
    data class WrongStartPassword(val attemptsLeft: Int) : CoreFailure()

    /** Too many wrong start passwords: the bank must issue a new activation. */
    data object EnrollmentLocked : CoreFailure()

    /** The activation has expired: the bank must issue a new one. */
    data object EnrollmentExpired : CoreFailure()

    /** No activation for this service ID and user ID (typo, or already used). */
    data object EnrollmentNotFound : CoreFailure()

    /** Something typed is malformed; [field] names it when known. */
    data class InvalidInput(val field: InputField?, val detail: String) : CoreFailure()

    /** The server could not be reached or answered unreadably. */
    data class Network(val detail: String) : CoreFailure()

    /** The server refused for a reason the app cannot fix (rate limit, service closed…). */
    data class Rejected(val detail: String) : CoreFailure()

    /** The platform key (Keystore / Keychain) is unavailable now; retrying later may work. */
    data object KeyUnavailable : CoreFailure()

    /** The vault file is damaged: only a reset helps. */
    data object CorruptVault : CoreFailure()

    /** The platform key is gone for good (screen lock removed, data restored elsewhere): reset. */
    data object KeyLost : CoreFailure()

    /** The vault was written by a newer app: update the app. */
    data object VaultTooNew : CoreFailure()

    /** The vault could not be written (storage full, permissions). */
    data object Storage : CoreFailure()

    /** The token is no longer in the vault. */
    data object TokenNotFound : CoreFailure()

    /** A bug or an unexpected state; [detail] is English, for support logs. */
    data class Internal(val detail: String) : CoreFailure()
}

/** The input field a failure refers to, so a form can mark it. */
enum class InputField { SERVICE_ID, USER_ID, START_PASSWORD, ACTIVATION_URI, SERIAL }

/** A core call failed; [failure] says why. */
class CoreException(val failure: CoreFailure) : Exception(failure.javaClass.simpleName)

/**
 * The platform key that protects the vault's data key: Android Keystore, iOS Keychain. The app
 * implements it; [FfiTokenCore] hands it to the core. Throw [PlatformKeyException] for known
 * failures; anything else is reported as unexpected, never a crash.
 */
interface PlatformKeyWrapper {
    /** Encrypts the 32-byte vault key. */
    fun wrap(key: ByteArray): ByteArray

    /** Decrypts what [wrap] returned. */
    fun unwrap(wrapped: ByteArray): ByteArray
}

/** A platform key failure; [permanent] means the key is gone for good (reset needed). */
class PlatformKeyException(message: String, val permanent: Boolean, cause: Throwable? = null) :
    Exception(message, cause)

/**
 * The token core as the shell uses it. Every method may block (PIN key derivation, network):
 * call them off the main thread. Failures throw [CoreException].
 */
interface TokenCore {
    /** Whether the app lock (PIN) is on. */
    fun hasPin(): Boolean

    /** Whether the vault is locked and needs the PIN. */
    fun isLocked(): Boolean

    /** Opens the vault with the PIN. */
    fun unlock(pin: String)

    /**
     * Seconds before the core checks another PIN: its wrong-PIN back-off, 0 when a PIN may be
     * tried now. The core keeps it in the vault, so it holds across restarts.
     */
    fun pinRetryAfterSeconds(): Long

    /** Locks the vault again (for instance when the app goes to the background). */
    fun lock()

    /** Turns the app lock on. */
    fun setPin(pin: String)

    /** Changes the PIN. */
    fun changePin(oldPin: String, newPin: String)

    /** Turns the app lock off. */
    fun removePin(pin: String)

    /** Reads a scanned transfer challenge (`softtoken://sign?v=1&…`); malformed: InvalidInput. */
    fun parseTransfer(payload: String): TransferRequest

    /** Token [serial]'s code for the challenge [payload], after the customer confirmed it. */
    fun signTransfer(serial: String, payload: String): String

    /** Token [serial]'s code for the digits typed from the bank's screen (manual mode). */
    fun signTypedDigits(serial: String, digits: String): String

    /** Deletes every token and the PIN: the reset a forgotten PIN needs. */
    fun wipe()

    /** The tokens, in the order they were added. */
    fun tokens(): List<TokenSummary>

    /** The code of [serial] at device time [deviceUnixMs], corrected by the token's clock offset. */
    fun code(serial: String, deviceUnixMs: Long): CodeSnapshot

    /** Reads an activation URI from a QR code. */
    fun parseActivationUri(uri: String): ActivationTarget

    /** Activates a token with a start password (activation mode). Goes to the network. */
    fun activate(target: ActivationTarget, startPassword: String): TokenSummary

    /** Creates a token for registration mode (serial + code). Goes to the network. */
    fun provision(serverUrl: String, serviceId: String): TokenSummary

    /**
     * Asks every server for its clock offset and then for every live token's state (MAC'd
     * both ways, DESIGN.md §12) and records the answers. False when a server could not be
     * asked: its tokens keep their last known states. Goes to the network.
     */
    fun refresh(): Boolean

    /** Refreshes the clock offset of [serial] from its server. Goes to the network. */
    fun syncTime(serial: String)

    /** Removes a token from this app (after the bank revoked it). */
    fun delete(serial: String)
}
