// Message keys resolved from Localizable.strings (ja first, en).
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

extension Message {
    /// The text in the device language.
    var text: String {
        String(format: L(key.rawValue), arguments: args.map { $0 as CVarArg })
    }
}
