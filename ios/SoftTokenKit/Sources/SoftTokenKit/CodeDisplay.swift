// What the core's view leaves to the shell's layout: the serial and the 取引確認 code read
// to VoiceOver, and the 取引確認 countdown. A token's code comes ready from the core
// (`CodeView`: grouped, spoken, countdown).
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
