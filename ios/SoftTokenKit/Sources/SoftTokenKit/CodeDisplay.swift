// How codes and serials are laid out for eyes and for VoiceOver (twin of CodeDisplay.kt).
// The core groups codes in halves (`123 456`) for both apps and the desktop token.
import Foundation

/// Display rules for codes and serials.
public enum CodeDisplay {
    /// One symbol at a time, groups separated by a pause: `1 2 3, 4 5 6`. VoiceOver would
    /// otherwise read `123456` as a number.
    public static func spoken(_ text: String) -> String {
        text.split(separator: " ")
            .map { group in group.map(String.init).joined(separator: " ") }
            .joined(separator: ", ")
    }

    /// `0:58`.
    public static func countdown(_ secondsLeft: Int) -> String {
        let s = max(0, secondsLeft)
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// A code ready to draw. Its description hides the codes.
public struct CodeView: Equatable, Sendable, CustomStringConvertible {
    /// Below this many seconds a customer rarely finishes typing in time.
    public static let expiringSoonSeconds = 5

    public let grouped: String
    public let spoken: String
    public let plain: String
    public let nextGrouped: String
    /// The next code digit by digit, for VoiceOver (never read as one number).
    public let nextSpoken: String
    public let secondsLeft: Int
    public let countdown: String
    /// 0.0–1.0 of the period left.
    public let remaining: Double
    public let expiringSoon: Bool

    public init(_ snapshot: CodeSnapshot) {
        grouped = snapshot.codeGrouped
        spoken = CodeDisplay.spoken(grouped)
        plain = snapshot.code
        nextGrouped = snapshot.nextCodeGrouped
        nextSpoken = CodeDisplay.spoken(nextGrouped)
        secondsLeft = snapshot.secondsLeft
        countdown = CodeDisplay.countdown(snapshot.secondsLeft)
        remaining = snapshot.periodSeconds > 0
            ? min(1, max(0, Double(snapshot.secondsLeft) / Double(snapshot.periodSeconds))) : 0
        expiringSoon = snapshot.secondsLeft <= CodeView.expiringSoonSeconds
    }

    public var description: String { "CodeView(secondsLeft: \(secondsLeft))" }
}
