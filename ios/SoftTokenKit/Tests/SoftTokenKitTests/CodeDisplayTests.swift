// Display rules, on a Mac: `swift test` in ios/SoftTokenKit after ../build-xcframework.sh.
import XCTest
@testable import SoftTokenKit

final class CodeDisplayTests: XCTestCase {
    func testVoiceOverReadsDigitByDigit() {
        XCTAssertEqual(CodeDisplay.spoken("123 456"), "1 2 3, 4 5 6")
        XCTAssertEqual(CodeDisplay.spoken("SKTS 1234 5678"), "S K T S, 1 2 3 4, 5 6 7 8")
    }

    func testCountdownAndExpiry() {
        let view = CodeView(CodeSnapshot(code: "94287082", codeGrouped: "9428 7082", secondsLeft: 58, periodSeconds: 60,
                                         nextCode: "07081804", nextCodeGrouped: "0708 1804"))
        XCTAssertEqual(view.grouped, "9428 7082")
        XCTAssertEqual(view.spoken, "9 4 2 8, 7 0 8 2")
        XCTAssertEqual(view.countdown, "0:58")
        XCTAssertFalse(view.expiringSoon)
        XCTAssertFalse(String(describing: view).contains("9428"))
        XCTAssertEqual(view.nextGrouped, "0708 1804")
        XCTAssertEqual(view.nextSpoken, "0 7 0 8, 1 8 0 4")
    }

    func testEveryFailureHasAMessage() {
        XCTAssertEqual(Message.forFailure(.wrongPin(attemptsLeft: 3, retryAfterSeconds: 30)),
                       Message(.wrongPinWait, 3, 30))
        XCTAssertEqual(Message.forFailure(.wrongPin(attemptsLeft: 4, retryAfterSeconds: 0)), Message(.wrongPin, 4))
        XCTAssertEqual(Message.forFailure(.wrongStartPassword(attemptsLeft: 2)), Message(.wrongStartPassword, 2))
    }
}
