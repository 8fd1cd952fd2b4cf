// The stateless surface: serial numbers and codes, with their records, enums and errors.
package jp.softtoken.core.tests

import jp.softtoken.core.BankDirectory
import jp.softtoken.core.ServerCheck
import jp.softtoken.core.SoftTokenException
import jp.softtoken.core.generateSerial
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
    fun noRawSecretCodeCrossesTheBoundary() {
        // Seeds stay in the core: the bindings offer codes from the vault only, so no app
        // code ever holds a seed it could not wipe. (The RFC 6238 vectors are the core's tests.)
        val topLevel = Class.forName("jp.softtoken.core.SofttokenKt").methods.map { it.name }
        assertTrue("parseSerial" in topLevel, "the generated top-level functions are where we look: $topLevel")
        assertTrue(topLevel.none { it.startsWith("otpCode") }, "otpCode is exported: $topLevel")
    }

    @Test
    fun theBankDirectoryIsReadByTheCore() {
        val dir = BankDirectory.fromJson("""{"banks": [{"serviceId": "a", "name": "A", "serverUrl": "https://otp.a.example/"}]}""")
        assertEquals("https://otp.a.example", dir.find("a")?.serverUrl)
        val unknown = dir.checkServer("a", "https://evil.example:8443")
        assertEquals(ServerCheck.Unknown("evil.example:8443"), unknown)
        assertFailsWith<SoftTokenException.InvalidInput> { BankDirectory.fromJson("{}") }
    }
}
