// Activation input from Swift: the activation URI of a QR code, and input the core refuses
// before anything is sent, each error naming its field. (The activation itself against a
// real server is exercised by the Kotlin tests, which run on every CI build.)
import Foundation
import XCTest

@testable import SoftTokenCore

final class EnrollmentInputTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: dir)
    }

    func testAnActivationUriNamesServerServiceAndUser() throws {
        let target = try parseActivationUri(uri: "softtoken://activate?server=https%3A%2F%2Fotp.bank.example&service=netbank&user=alice")
        XCTAssertEqual(target.serverUrl, "https://otp.bank.example")
        XCTAssertEqual(target.serviceId, "netbank")
        XCTAssertEqual(target.userId, "alice")
    }

    func testBadInputNamesItsField() throws {
        let store = try TokenStore.open(path: dir.appendingPathComponent("tokens.vault").path, keyWrapper: AesKeyWrapper())
        func field(_ body: () throws -> Void) -> InputField? {
            do {
                try body()
            } catch let SoftTokenError.InvalidInput(field, _) {
                return field
            } catch {
                XCTFail("unexpected \(error)")
            }
            return nil
        }
        XCTAssertEqual(field { _ = try parseActivationUri(uri: "https://bank.example/activate") }, .activationUri)
        XCTAssertEqual(field { _ = try store.activate(serverUrl: "http://bank.example", serviceId: "netbank", userId: "alice", startPassword: "start-1234") }, .serverUrl)
        XCTAssertEqual(field { _ = try store.activate(serverUrl: "https://bank.example", serviceId: "net bank", userId: "alice", startPassword: "start-1234") }, .serviceId)
        XCTAssertEqual(field { _ = try store.activate(serverUrl: "https://bank.example", serviceId: "netbank", userId: "alice", startPassword: "abc") }, .startPassword)
        XCTAssertEqual(try store.tokens().count, 0)
    }

    func testAnUnreachableServerIsANetworkError() throws {
        let store = try TokenStore.open(path: dir.appendingPathComponent("tokens.vault").path, keyWrapper: AesKeyWrapper())
        XCTAssertThrowsError(try store.provision(serverUrl: "http://127.0.0.1:1", serviceId: "netbank")) { error in
            guard case SoftTokenError.Network = error else { return XCTFail("unexpected \(error)") }
        }
    }
}
