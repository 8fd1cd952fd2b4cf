// The stateless surface: serial numbers and codes, with their records, enums and errors.
package jp.softtoken.core.tests

import jp.softtoken.core.OtpAlgorithm
import jp.softtoken.core.OtpSettings
import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.generateSerial
import jp.softtoken.core.otpCode
import jp.softtoken.core.parseSerial
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue

class SerialAndCodeTest {
    @Test
    fun generatedSerialsParseBackFromHowPeopleTypeThem() {
        val serial = generateSerial()
        assertTrue(serial.compact.matches(Regex("SKTS[0-9A-HJKMNP-TV-Z]{8}")), serial.compact)
        assertEquals("${serial.compact.substring(0, 4)} ${serial.compact.substring(4, 8)} ${serial.compact.substring(8)}", serial.grouped)
        val typed = serial.grouped.lowercase().replace(' ', '-')
        assertEquals(serial, parseSerial(typed))
        assertNotEquals(serial.compact, generateSerial().compact)
    }

    @Test
    fun aTypoInASerialIsAnInvalidInputException() {
        val serial = generateSerial().compact
        // Change one random symbol: the Luhn mod 32 check symbol catches every such typo.
        val last = serial.last()
        val typo = serial.dropLast(1) + (if (last == '0') '1' else '0')
        val e = assertFailsWith<SoftTokenException.InvalidInput> { parseSerial(typo) }
        assertTrue(e.detail.contains("check symbol"), e.detail)
        val short = assertFailsWith<SoftTokenException.InvalidInput> { parseSerial("SKTS 1234") }
        assertTrue(short.detail.contains("12 characters"), short.detail)
    }

    @Test
    fun codesMatchTheRfc6238VectorsAcrossTheBoundary() {
        val sha1 = "12345678901234567890".toByteArray()
        val sha256 = "12345678901234567890123456789012".toByteArray()
        val sha512 = "1234567890123456789012345678901234567890123456789012345678901234".toByteArray()
        fun settings(algorithm: OtpAlgorithm) = OtpSettings(algorithm, 8u, 30uL)
        // RFC 6238 Appendix B, T = 59 s and T = 20000000000 s.
        assertEquals("94287082", otpCode(sha1, settings(OtpAlgorithm.SHA1), 59_000L).code)
        assertEquals("46119246", otpCode(sha256, settings(OtpAlgorithm.SHA256), 59_000L).code)
        assertEquals("90693936", otpCode(sha512, settings(OtpAlgorithm.SHA512), 59_000L).code)
        assertEquals("65353130", otpCode(sha1, settings(OtpAlgorithm.SHA1), 20_000_000_000_000L).code)

        val atBoundary = otpCode(sha1, settings(OtpAlgorithm.SHA1), 59_000L)
        assertEquals(1uL, atBoundary.secondsLeft)
        assertEquals(30uL, atBoundary.period)
        assertEquals(otpCode(sha1, settings(OtpAlgorithm.SHA1), 60_000L).code, atBoundary.nextCode)
        // Grouped by the core, for both apps to display as they are.
        assertEquals("9428 7082", atBoundary.codeGrouped)
        assertEquals(atBoundary.nextCode.chunked(4).joinToString(" "), atBoundary.nextCodeGrouped)
        // Six digits keep their leading zeros: the RFC 4226 counter-0 code is 755224.
        assertEquals("755224", otpCode(sha1, OtpSettings(OtpAlgorithm.SHA1, 6u, 30uL), 0L).code)
    }

    @Test
    fun impossibleSettingsAreRejectedNotCrashed() {
        val secret = "12345678901234567890".toByteArray()
        assertFailsWith<SoftTokenException.InvalidInput> {
            otpCode(secret, OtpSettings(OtpAlgorithm.SHA1, 7u, 30uL), 0L)
        }
        assertFailsWith<SoftTokenException.InvalidInput> {
            otpCode(secret, OtpSettings(OtpAlgorithm.SHA1, 6u, 5uL), 0L)
        }
        assertFailsWith<SoftTokenException.InvalidInput> {
            otpCode(secret, OtpSettings(OtpAlgorithm.SHA1, 6u, 30uL), -1L)
        }
        assertFailsWith<SoftTokenException.InvalidInput> {
            otpCode(ByteArray(0), OtpSettings(OtpAlgorithm.SHA1, 6u, 30uL), 0L)
        }
    }
}
