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

    func testTheBankDirectoryIsReadByTheCore() throws {
        let json = #"{"banks": [{"serviceId": "a", "name": "A", "serverUrl": "https://otp.a.example/"}]}"#
        let dir = try BankDirectory.fromJson(json: json)
        XCTAssertEqual(dir.find(serviceId: "a")?.serverUrl, "https://otp.a.example")
        XCTAssertEqual(
            try dir.checkServer(serviceId: "a", serverUrl: "https://evil.example:8443"),
            .unknown(host: "evil.example:8443")
        )
        XCTAssertThrowsError(try BankDirectory.fromJson(json: "{}"))
    }
}
