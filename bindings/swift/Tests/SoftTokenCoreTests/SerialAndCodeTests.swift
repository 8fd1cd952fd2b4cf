// The stateless surface from Swift: serial numbers and codes, records, enums and errors.
import Foundation
import XCTest

@testable import SoftTokenCore

final class SerialAndCodeTests: XCTestCase {
    func testGeneratedSerialsParseBackFromHowPeopleTypeThem() throws {
        let serial = generateSerial()
        XCTAssertEqual(serial.compact.count, 12)
        XCTAssertTrue(serial.compact.hasPrefix("SKTS"))
        XCTAssertEqual(serial.grouped.replacingOccurrences(of: " ", with: ""), serial.compact)
        let typed = serial.grouped.lowercased().replacingOccurrences(of: " ", with: "-")
        XCTAssertEqual(try parseSerial(text: typed), serial)
        XCTAssertNotEqual(generateSerial().compact, serial.compact)
    }

    func testATypoInASerialIsInvalidInput() {
        let serial = generateSerial().compact
        let typo = String(serial.dropLast()) + (serial.hasSuffix("0") ? "1" : "0")
        XCTAssertThrowsError(try parseSerial(text: typo)) { error in
            guard case let SoftTokenError.InvalidInput(field, detail) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(field, .serial)
            XCTAssertTrue(detail.contains("check symbol"), detail)
        }
    }

    func testCodesMatchTheRfc6238Vectors() throws {
        let sha1 = Data("12345678901234567890".utf8)
        let sha256 = Data("12345678901234567890123456789012".utf8)
        let settings = { (algorithm: OtpAlgorithm) in
            OtpSettings(algorithm: algorithm, digits: 8, periodSeconds: 30)
        }
        XCTAssertEqual(try otpCode(secret: sha1, settings: settings(.sha1), unixMs: 59_000).code, "94287082")
        XCTAssertEqual(try otpCode(secret: sha256, settings: settings(.sha256), unixMs: 59_000).code, "46119246")
        let atBoundary = try otpCode(secret: sha1, settings: settings(.sha1), unixMs: 59_000)
        XCTAssertEqual(atBoundary.secondsLeft, 1)
        XCTAssertEqual(atBoundary.period, 30)
        XCTAssertEqual(atBoundary.codeGrouped, "9428 7082")
        XCTAssertEqual(
            atBoundary.nextCode,
            try otpCode(secret: sha1, settings: settings(.sha1), unixMs: 60_000).code
        )
    }

    func testImpossibleSettingsAreRejected() {
        let secret = Data("12345678901234567890".utf8)
        let sevenDigits = OtpSettings(algorithm: .sha1, digits: 7, periodSeconds: 30)
        XCTAssertThrowsError(try otpCode(secret: secret, settings: sevenDigits, unixMs: 0)) { error in
            guard case SoftTokenError.InvalidInput = error else {
                return XCTFail("unexpected \(error)")
            }
        }
    }
}
