// The token store from Swift: a KeyWrapper written in Swift (CryptoKit, standing in for the
// Keychain / Secure Enclave), PIN errors and their fields, wipe, and concurrent calls.
import CryptoKit
import Foundation
import XCTest

@testable import SoftTokenCore

/// AES-GCM under a key held in memory, the shape of a Keychain-backed wrapper.
final class AesKeyWrapper: KeyWrapper, @unchecked Sendable {
    private let key = SymmetricKey(size: .bits256)

    func wrapKey(key data: Data) throws -> Data {
        let sealed = try AES.GCM.seal(data, using: key)
        guard let combined = sealed.combined else {
            throw KeyWrapperError.Unavailable(detail: "AES-GCM gave no combined form")
        }
        return combined
    }

    func unwrapKey(wrapped: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key)
        } catch {
            throw KeyWrapperError.KeyLost(detail: "the platform key does not open this vault")
        }
    }
}

/// Fails with an error type the bindings do not know: must arrive as an error, not a crash.
final class ThrowingKeyWrapper: KeyWrapper, @unchecked Sendable {
    struct Exploded: Error {}
    let inner: KeyWrapper
    init(inner: KeyWrapper) { self.inner = inner }
    func wrapKey(key: Data) throws -> Data { try inner.wrapKey(key: key) }
    func unwrapKey(wrapped: Data) throws -> Data { throw Exploded() }
}

final class TokenStoreTests: XCTestCase {
    private var dir: URL!
    private var vault: String { dir.appendingPathComponent("tokens.vault").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("softtoken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testWrongPinsCountDownAndTheRightOneUnlocks() throws {
        let store = try TokenStore.open(path: vault, keyWrapper: AesKeyWrapper())
        XCTAssertFalse(try store.hasPin())
        try store.setPin(pin: "2468")
        try store.lock()
        XCTAssertTrue(try store.isLocked())

        var left: [UInt32] = []
        for wrong in ["0000", "1111"] {
            XCTAssertThrowsError(try store.unlock(pin: wrong)) { error in
                guard case let SoftTokenError.WrongPin(attemptsLeft, retryAfterSeconds) = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertEqual(retryAfterSeconds, 0)
                left.append(attemptsLeft)
            }
        }
        XCTAssertEqual(left.count, 2)
        XCTAssertEqual(left[0] - 1, left[1])
        XCTAssertEqual(try store.pinRetryAfterSeconds(), 0)
        XCTAssertThrowsError(try store.unlock(pin: "12a4")) { error in
            guard case SoftTokenError.InvalidPin = error else { return XCTFail("unexpected \(error)") }
        }
        try store.unlock(pin: "2468")
        XCTAssertEqual(try store.tokens(), [])
    }

    func testWipeIsTheWayOutOfAForgottenPin() throws {
        let store = try TokenStore.open(path: vault, keyWrapper: AesKeyWrapper())
        try store.setPin(pin: "31415926")
        try store.lock()
        try store.wipe()
        XCTAssertFalse(try store.hasPin())
        XCTAssertFalse(try store.isLocked())
    }

    func testKeyWrapperFailuresBecomeErrors() throws {
        let wrapper = AesKeyWrapper()
        _ = try TokenStore.open(path: vault, keyWrapper: wrapper)
        XCTAssertThrowsError(try TokenStore.open(path: vault, keyWrapper: ThrowingKeyWrapper(inner: wrapper))) { error in
            guard case SoftTokenError.KeyUnavailable = error else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertThrowsError(try TokenStore.open(path: vault, keyWrapper: AesKeyWrapper())) { error in
            guard case SoftTokenError.KeyLost = error else { return XCTFail("unexpected \(error)") }
        }
        XCTAssertFalse(try TokenStore.open(path: vault, keyWrapper: wrapper).hasPin())
    }

    func testOneStoreServesManyThreadsAtOnce() throws {
        let store = try TokenStore.open(path: vault, keyWrapper: AesKeyWrapper())
        try store.setPin(pin: "8642")
        try store.lock()
        let lock = NSLock()
        var left: [UInt32] = []
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            do {
                try store.unlock(pin: "000\(i)")
            } catch SoftTokenError.WrongPin(let attemptsLeft, _) {
                lock.lock()
                left.append(attemptsLeft)
                lock.unlock()
            } catch {
                XCTFail("unexpected \(error)")
            }
        }
        XCTAssertEqual(Set(left).count, 3, "attempts left seen: \(left)")
        try store.unlock(pin: "8642")
        XCTAssertEqual(try store.tokens(), [])
    }
}
