// The only file that knows the generated bindings (package jp.softtoken.core): it turns the
// shell's calls into core calls and the core's one error enum into CoreFailure.
package jp.softtoken.shell

import java.io.File
import jp.softtoken.core.KeyWrapper
import jp.softtoken.core.KeyWrapperException
import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.TokenInfo
import jp.softtoken.core.TokenState
import jp.softtoken.core.TokenStore

/** [TokenCore] over the Rust core's `TokenStore`. */
class FfiTokenCore private constructor(private val store: TokenStore) : TokenCore {
    override fun hasPin(): Boolean = call { store.hasPin() }

    override fun isLocked(): Boolean = call { store.isLocked() }

    override fun unlock(pin: String) = call { store.unlock(pin) }

    override fun lock() = call { store.lock() }

    override fun setPin(pin: String) = call { store.setPin(pin) }

    override fun changePin(oldPin: String, newPin: String) = call { store.changePin(oldPin, newPin) }

    override fun removePin(pin: String) = call { store.removePin(pin) }

    override fun wipe() = call { store.wipe() }

    override fun tokens(): List<TokenSummary> = call { store.tokens().map(::summary) }

    override fun code(serial: String, deviceUnixMs: Long): CodeSnapshot = call {
        val c = store.codeAt(serial, deviceUnixMs)
        CodeSnapshot(c.code, c.secondsLeft.toInt(), c.period.toInt(), c.nextCode)
    }

    // Activation, provisioning and time sync reach the apps through crates/ffi once the
    // core's enrollment client is exported there; until then they fail plainly.
    override fun parseActivationUri(uri: String): ActivationTarget = notYetExported("parse_activation_uri")

    override fun activate(target: ActivationTarget, startPassword: String): TokenSummary = notYetExported("activate")

    override fun provision(serverUrl: String, serviceId: String): TokenSummary = notYetExported("provision")

    override fun syncTime(serial: String) = notYetExported("sync_time")

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

        private fun notYetExported(what: String): Nothing =
            throw CoreException(CoreFailure.Internal("$what is not exported by crates/ffi yet"))

        private fun summary(info: TokenInfo) = TokenSummary(
            serial = info.serial.compact,
            serialGrouped = info.serial.grouped,
            issuer = info.issuer,
            label = info.userLabel,
            status = when (info.state) {
                TokenState.PENDING -> TokenStatus.PENDING
                TokenState.ACTIVE -> TokenStatus.ACTIVE
                TokenState.REVOKED -> TokenStatus.REVOKED
            },
            digits = info.otp.digits.toInt(),
            periodSeconds = info.otp.periodSeconds.toInt(),
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
            is SoftTokenException.InvalidInput -> CoreFailure.InvalidInput(fieldOf(e.detail), e.detail)
            is SoftTokenException.TokenNotFound -> CoreFailure.TokenNotFound
            is SoftTokenException.CorruptVault -> CoreFailure.CorruptVault
            is SoftTokenException.VaultTooNew -> CoreFailure.VaultTooNew
            is SoftTokenException.KeyUnavailable -> CoreFailure.KeyUnavailable
            is SoftTokenException.KeyLost -> CoreFailure.KeyLost
            is SoftTokenException.Storage -> CoreFailure.Storage
            // NoPin, PinAlreadySet: the shell's flows never ask for them; a bug if they come.
            else -> CoreFailure.Internal(e.message ?: e.javaClass.simpleName)
        }

        // The core names the field in its English detail ("invalid service ID: …").
        private fun fieldOf(detail: String): InputField? {
            val d = detail.lowercase()
            return when {
                "service" in d -> InputField.SERVICE_ID
                "user" in d -> InputField.USER_ID
                "uri" in d -> InputField.ACTIVATION_URI
                "serial" in d -> InputField.SERIAL
                else -> null
            }
        }
    }
}

/** Hands a [PlatformKeyWrapper] to the core as its foreign `KeyWrapper`. */
private class KeyWrapperBridge(private val keys: PlatformKeyWrapper) : KeyWrapper {
    override fun wrapKey(key: ByteArray): ByteArray = platform { keys.wrap(key) }

    override fun unwrapKey(wrapped: ByteArray): ByteArray = platform { keys.unwrap(wrapped) }

    private inline fun platform(block: () -> ByteArray): ByteArray = try {
        block()
    } catch (e: PlatformKeyException) {
        val detail = e.message ?: "platform key failure"
        throw if (e.permanent) KeyWrapperException.KeyLost(detail) else KeyWrapperException.Unavailable(detail)
    }
}
