// The shell's labels from Localizable.strings (ja first, en); the core's messages come with
// their text (AppMessage.text, from the core's table kept equal to these files by cargo test).
import Foundation
import SoftTokenKit

/// The localised text of a string key.
func L(_ key: String) -> String {
    NSLocalizedString(key, comment: "")
}

/// The localised text of a key with integer arguments (`%1$ld`).
func L(_ key: String, _ args: Int...) -> String {
    String(format: L(key), arguments: args.map { $0 as CVarArg })
}
