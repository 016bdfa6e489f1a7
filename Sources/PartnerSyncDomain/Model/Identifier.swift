/// The syntax of ticket numbers, partner ids and entry ids.
///
/// An identifier is 1 to 64 characters of ASCII letters, digits, `-`, `_`, `.` and `:`,
/// starting with a letter or digit. Keeping ids this plain means they are safe in file names,
/// shells, SQL and diagrams, and that look-alike ids cannot be smuggled in.
public enum Identifier {
  /// The longest identifier accepted.
  public static let maximumLength = 64

  /// Why `value` is not a valid identifier, or `nil` when it is.
  public static func problem(with value: String) -> String? {
    var value = value
    return value.withUTF8 { problem(withBytes: $0) }
  }

  /// Why the UTF-8 text `bytes` is not a valid identifier, or `nil` when it is.
  static func problem(withBytes bytes: UnsafeBufferPointer<UInt8>) -> String? {
    if bytes.isEmpty { return "is empty" }
    if bytes.count > maximumLength {
      return "is \(bytes.count) characters long (at most \(maximumLength))"
    }
    guard let first = bytes.first, isAlphanumeric(first) else {
      return "must start with a letter or a digit"
    }
    for byte in bytes where !(isAlphanumeric(byte) || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A) {
      return "may hold only letters, digits, '-', '_', '.' and ':'"
    }
    return nil
  }

  private static func isAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
  }

  /// The engagement number if `id` has the reserved form `bundle-<n>`.
  static func bundleNumber(_ id: String) -> Int? {
    guard id.utf8.first == UInt8(ascii: "b"), id.hasPrefix("bundle-") else { return nil }
    let digits = id.dropFirst("bundle-".count)
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(digits) ?? Int.max
  }

  /// The id of the completion bundle of engagement `number`.
  static func bundleID(engagement number: Int) -> String { "bundle-\(number)" }
}
