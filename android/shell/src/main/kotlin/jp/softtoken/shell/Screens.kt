// What the app shows, screen by screen, as plain data the Compose (and SwiftUI) code draws.
package jp.softtoken.shell

/**
 * A token with the code it shows now: [code] is null for a dead token (revoked, stopped,
 * replaced), and [whyDead] then says why and what to do. [status] is the state's label.
 */
data class TokenCard(val token: TokenSummary, val code: CodeView?) {
    /** The state's label (「利用中」, トークン失効…; docs/glossary.toml). */
    val status: Message get() = Messages.forStatus(token.status)

    /** Why there is no code and what to do (contact the bank, activate again); null if alive. */
    val whyDead: Message? get() = Messages.whyDead(token.status)
}

/** Why a token screen explains the next step: it was just created by one of the two modes. */
enum class FirstUse {
    /** Activation mode: type this 8-digit code into internet banking to confirm. */
    ACTIVATION,

    /** Registration mode: type the serial and this code into internet banking. */
    REGISTRATION,
}

/** What a PIN screen is for. */
enum class PinPurpose {
    SET,
    CHANGE,
    REMOVE,

    /** Turning biometric unlock on: the current PIN, stored under the biometric key. */
    BIOMETRIC,
}

/** Which PIN a PIN screen asks for. */
enum class PinStep { CURRENT, NEW, CONFIRM }

/** One screen of the app. */
sealed interface Screen {
    /** Opening the vault. */
    data object Opening : Screen

    /**
     * App lock: enter the PIN. [waitSeconds] > 0 means the pad is disabled for that long;
     * [biometric] offers the biometric prompt beside the pad (the PIN stays the fallback).
     */
    data class Unlock(val error: Message?, val waitSeconds: Long, val biometric: Boolean = false) : Screen

    /** The token list (home). Empty: the welcome with the two ways to add a token. */
    data class Tokens(val cards: List<TokenCard>) : Screen

    /** Choose how to add a token: start password, or serial + code. */
    data object AddToken : Screen

    /** The activation form (初期設定). The start password is never kept in state. */
    data class Activation(
        val serviceId: String,
        val userId: String,
        /** From the scanned QR code; null means the app's configured server. */
        val scannedServer: String?,
        val error: Message?,
        val errorField: InputField?,
        /** The app build's banks, for the picker that fills [serviceId]. */
        val banks: List<Bank> = emptyList(),
    ) : Screen

    /**
     * A QR code or link for a server the bank directory does not list: [host] is shown and
     * the customer decides (confirmServer) or goes back.
     */
    data class ConfirmServer(val target: ActivationTarget, val host: String) : Screen

    /** 初期設定完了: the token exists; next shows its first code. */
    data class ActivationDone(val token: TokenSummary) : Screen

    /** One token: code, countdown, serial with copy, delete; [firstUse] adds instructions. */
    data class TokenDetail(val card: TokenCard, val firstUse: FirstUse?) : Screen

    /** Delete a token? (Only after the bank revoked it or moved to a new token.) */
    data class ConfirmDelete(val token: TokenSummary) : Screen

    /** Settings: app lock on/off, change PIN, reset. */
    data class Settings(
        val lockOn: Boolean,
        /** Biometric unlock is on (only with the app lock). */
        val biometricOn: Boolean = false,
        /** The device can do biometrics, so the option is offered (with the app lock on). */
        val biometricAvailable: Boolean = false,
    ) : Screen

    /** A PIN pad for setting, changing or removing the app lock. */
    data class PinEntry(val purpose: PinPurpose, val step: PinStep, val error: Message?) : Screen

    /** Reset the app? Every token of every bank is deleted. */
    data object ConfirmReset : Screen

    /**
     * 取引確認: the scanned transfer, 振込先 and 金額 large, and the token that will answer;
     * the code is made only once the customer confirms (confirmTransfer).
     */
    data class SignConfirm(val transfer: TransferRequest, val token: TokenSummary) : Screen

    /**
     * 取引確認 without a camera: the customer types the digits the bank's screen shows (the
     * challenge's 6-digit number, the payee account's last 6 digits, then the amount) for
     * [token].
     */
    data class SignManual(val token: TokenSummary, val error: Message?) : Screen

    /**
     * The transfer's code to type into internet banking. [transfer] is null in manual mode
     * ([typedDigits] then says what was signed). [secondsLeft] counts down the time the
     * bank accepts it by default; at 0 [code] is null and the customer scans again.
     */
    data class SignCode(
        val transfer: TransferRequest?,
        val typedDigits: String?,
        val code: String?,
        val secondsLeft: Long,
    ) : Screen {
        // The code confirms a payment: never in a log.
        override fun toString(): String = "SignCode(transfer=${transfer?.id}, secondsLeft=$secondsLeft)"
    }

    /** No code for this challenge: [message] says why (malformed, another bank's, revoked). */
    data class SignRefused(val message: Message) : Screen

    /** The vault cannot be opened; the only way on is a reset. */
    data class Broken(val message: Message) : Screen
}

/** Everything drawn: the screen, whether a network or PIN call is running, a passing notice. */
data class UiState(val screen: Screen, val busy: Boolean = false, val notice: Message? = null)
