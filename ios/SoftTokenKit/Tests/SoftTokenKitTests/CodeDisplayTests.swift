// Display rules, on a Mac: `swift test` in ios/SoftTokenKit after ../build-xcframework.sh.
import XCTest
@testable import SoftTokenKit

final class CodeDisplayTests: XCTestCase {
    func testVoiceOverReadsDigitByDigit() {
        XCTAssertEqual(CodeDisplay.spoken("123 456"), "1 2 3, 4 5 6")
        XCTAssertEqual(CodeDisplay.spoken("SKTS 1234 5678"), "S K T S, 1 2 3 4, 5 6 7 8")
    }

    func testCountdown() {
        XCTAssertEqual(CodeDisplay.countdown(58), "0:58")
        XCTAssertEqual(CodeDisplay.countdown(300), "5:00")
    }
}
