// The only file that knows the generated bindings (package jp.softtoken.core): it turns the
// shell's calls into core calls and the core's one error enum into CoreFailure.
package jp.softtoken.shell

import java.io.File
import jp.softtoken.core.BankDirectory as CoreBankDirectory
import jp.softtoken.core.KeyWrapper
import jp.softtoken.core.ServerCheck as CoreServerCheck
import jp.softtoken.core.InputField as CoreField
import jp.softtoken.core.KeyWrapperException
import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.TokenInfo
import jp.softtoken.core.TokenState
import jp.softtoken.core.TokenStore
import jp.softtoken.core.parseActivationUri as coreParseActivationUri
import jp.softtoken.core.parseTransferChallenge

/** [TokenCore] over the Rust core's `TokenStore`. */
class FfiTokenCore private constructor(private val store: TokenStore) : TokenCore {
    override fun hasPin(): Boolean = call { store.hasPin() }

    override fun isLocked(): Boolean = call { store.isLocked() }

    override fun unlock(pin: String) = call { store.unlock(pin) }

    override fun pinRetryAfterSeconds(): Long = call { store.pinRetryAfterSeconds().toLong() }

    override fun lock() = call { store.lock() }

    override fun setPin(pin: String) = call { store.setPin(pin) }

    override fun changePin(oldPin: String, newPin: String) = call { store.changePin(oldPin, newPin) }

    override fun removePin(pin: String) = call { store.removePin(pin) }

    override fun wipe() = call { store.wipe() }

    override fun tokens(): List<TokenSummary> = call { store.tokens().map(::summary) }

    override fun code(serial: String, deviceUnixMs: Long): CodeSnapshot = call {
        val c = store.codeAt(serial, deviceUnixMs)
        CodeSnapshot(
            code = c.code,
            codeGrouped = c.codeGrouped,
            secondsLeft = c.secondsLeft.toInt(),
            periodSeconds = c.period.toInt(),
            nextCode = c.nextCode,
            nextCodeGrouped = c.nextCodeGrouped,
        )
    }

    override fun parseActivationUri(uri: String): ActivationTarget = call {
        val target = coreParseActivationUri(uri)
        ActivationTarget(target.serverUrl, target.serviceId, target.userId)
    }

    override fun activate(target: ActivationTarget, startPassword: String): TokenSummary = call {
        summary(store.activate(target.serverUrl, target.serviceId, target.userId, startPassword))
    }

    override fun provision(serverUrl: String, serviceId: String): TokenSummary = call {
        summary(store.provision(serverUrl, serviceId))
    }

    override fun refresh(): Boolean = call {
        val outcome = store.refresh()
        outcome.time.all { it.failure == null } && outcome.status.all { it.error == null }
    }

    override fun syncTime(serial: String) = call { store.syncTokenTime(serial); Unit }

    override fun parseTransfer(payload: String): TransferRequest = call {
        val c = parseTransferChallenge(payload)
        TransferRequest(c.serviceId, c.id, c.payeeName, c.maskedAccount, c.displayAmount, payload)
    }

    override fun signTransfer(serial: String, payload: String): String = call { store.signChallenge(serial, payload) }

    override fun signTypedDigits(serial: String, digits: String): String = call { store.signTypedDigits(serial, digits) }

    override fun delete(serial: String) = call { store.delete(serial) }

    companion object {
        /** The vault's file name inside the app's private files directory. */
        const val VAULT_FILE = "tokens.vault"

        /** A [VaultOpener] for the vault in [directory], its key protected by [keys]. */
        fun opener(directory: File, keys: PlatformKeyWrapper): VaultOpener = object : VaultOpener {
            private val path = File(directory, VAULT_FILE).path

            override fun open(): TokenCore = call { FfiTokenCore(TokenStore.open(path, KeyWrapperBridge(keys))) }

            override fun reset(): TokenCore = call { FfiTokenCore(TokenStore.reset(path, KeyWrapperBridge(keys))) }
        }

        /** The app build's bank directory from its JSON resource, parsed and checked by the core. */
        fun bankDirectory(json: String): BankDirectory {
            val dir = call { CoreBankDirectory.fromJson(json) }
            fun bank(b: jp.softtoken.core.Bank) = Bank(b.serviceId, b.name, b.serverUrl)
            return object : BankDirectory {
                override val banks: List<Bank> = call { dir.banks().map(::bank) }

                override fun find(serviceId: String): Bank? = call { dir.find(serviceId)?.let(::bank) }

                override fun check(serviceId: String, serverUrl: String): ServerCheck = call {
                    when (val c = dir.checkServer(serviceId, serverUrl)) {
                        is CoreServerCheck.Known -> ServerCheck.Known(bank(c.bank))
                        is CoreServerCheck.Unknown -> ServerCheck.Unknown(c.host)
                    }
                }
            }
        }

        private fun summary(info: TokenInfo) = TokenSummary(
            serial = info.serial.compact,
            serialGrouped = info.serial.grouped,
            issuer = info.issuer,
            label = info.userLabel,
            status = when (info.state) {
                TokenState.PENDING -> TokenStatus.PENDING
                TokenState.ACTIVE -> TokenStatus.ACTIVE
                TokenState.REVOKED -> TokenStatus.REVOKED
                TokenState.STOPPED -> TokenStatus.STOPPED
                TokenState.REPLACED -> TokenStatus.REPLACED
            },
            digits = info.otp.digits.toInt(),
            periodSeconds = info.otp.periodSeconds.toInt(),
            serviceId = info.serviceId,
        )

        // The one place the core's error enum becomes a CoreFailure.
        private inline fun <T> call(block: () -> T): T = try {
            block()
        } catch (e: SoftTokenException) {
            throw CoreException(failure(e))
        } catch (e: CoreException) {
            throw e
        } catch (e: Exception) {
            // A bug in the core or the bindings (UniFFI's InternalException for a Rust panic):
            // the app shows "unexpected error" instead of crashing.
            throw CoreException(CoreFailure.Internal("${e.javaClass.simpleName}: ${e.message}"))
        }

        private fun failure(e: SoftTokenException): CoreFailure = when (e) {
            is SoftTokenException.InvalidPin -> CoreFailure.InvalidPin
            is SoftTokenException.WrongPin ->
                CoreFailure.WrongPin(e.attemptsLeft.toInt(), e.retryAfterSeconds.toLong())
            is SoftTokenException.TooSoon -> CoreFailure.TooSoon(e.retryAfterSeconds.toLong())
            is SoftTokenException.Locked -> CoreFailure.Locked
            is SoftTokenException.InvalidInput -> CoreFailure.InvalidInput(fieldOf(e.field), e.detail)
            is SoftTokenException.WrongStartPassword -> CoreFailure.WrongStartPassword(e.attemptsLeft.toInt())
            is SoftTokenException.EnrollmentLocked -> CoreFailure.EnrollmentLocked
            is SoftTokenException.EnrollmentExpired -> CoreFailure.EnrollmentExpired
            is SoftTokenException.EnrollmentNotFound -> CoreFailure.EnrollmentNotFound
            // Only a typed service ID can name a service the server does not know.
            is SoftTokenException.UnknownService -> CoreFailure.InvalidInput(InputField.SERVICE_ID, e.message ?: "unknown service")
            is SoftTokenException.ServerBusy -> CoreFailure.Rejected(e.message ?: "server busy")
            is SoftTokenException.ServerRefused -> CoreFailure.Rejected("${e.code}: ${e.detail}")
            is SoftTokenException.Network -> CoreFailure.Network(e.detail)
            is SoftTokenException.BadServerResponse -> CoreFailure.Network(e.detail)
            is SoftTokenException.TokenNotFound -> CoreFailure.TokenNotFound
            is SoftTokenException.CorruptVault -> CoreFailure.CorruptVault
            is SoftTokenException.VaultTooNew -> CoreFailure.VaultTooNew
            is SoftTokenException.KeyUnavailable -> CoreFailure.KeyUnavailable
            is SoftTokenException.KeyLost -> CoreFailure.KeyLost
            is SoftTokenException.Storage -> CoreFailure.Storage
            // NoPin, PinAlreadySet, DuplicateToken: the shell's flows never meet them; a bug if
            // they come.
            else -> CoreFailure.Internal(e.message ?: e.javaClass.simpleName)
        }

        // A server URL comes from the app's configuration or inside an activation URI, so
        // only the URI is a field the customer can fix.
        private fun fieldOf(field: CoreField): InputField? = when (field) {
            CoreField.SERVICE_ID -> InputField.SERVICE_ID
            CoreField.USER_ID -> InputField.USER_ID
            CoreField.START_PASSWORD -> InputField.START_PASSWORD
            CoreField.ACTIVATION_URI -> InputField.ACTIVATION_URI
            CoreField.SERIAL -> InputField.SERIAL
            CoreField.SERVER_URL, CoreField.OTP_SETTINGS, CoreField.OTHER -> null
        }
    }
}

/** Hands a [PlatformKeyWrapper] to the core as its foreign `KeyWrapper`. */
internal class KeyWrapperBridge(private val keys: PlatformKeyWrapper) : KeyWrapper {
    // The data key arrives as a copy made for this call: wiped as soon as it is wrapped. (What
    // unwrapKey returns is handed back to the core by the bindings; the JVM cannot wipe it.)
    override fun wrapKey(key: ByteArray): ByteArray = try {
        platform { keys.wrap(key) }
    } finally {
        key.fill(0)
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray = platform { keys.unwrap(wrapped) }

    private inline fun platform(block: () -> ByteArray): ByteArray = try {
        block()
    } catch (e: PlatformKeyException) {
        val detail = e.message ?: "platform key failure"
        throw if (e.permanent) KeyWrapperException.KeyLost(detail) else KeyWrapperException.Unavailable(detail)
    }
}
