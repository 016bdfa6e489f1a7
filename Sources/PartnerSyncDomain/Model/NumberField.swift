/// The numbers an event may carry, and their bounds.
///
/// Every number is finite and small enough that what is made of it stays finite: a completion
/// bundle's amount is the sum of its hours times the engagement's rate, at most
/// 10,000 × 10^9 = 10^13 per time entry. The rules refuse an event with a number outside its
/// bounds (``TicketProjection/validate(_:)``), so no view, bundle or export ever holds an
/// infinite or unrepresentable number.
public enum NumberField: String, Sendable, Hashable, CaseIterable {
  /// A time entry's hours: greater than 0 and at most ``NumberField/maximumHours``.
  case hours
  /// An engagement's hourly rate: from 0 to ``NumberField/maximumMagnitude``.
  case rate
  /// A charge's amount, negative for a credit: from −``NumberField/maximumMagnitude`` to
  /// ``NumberField/maximumMagnitude``.
  case amount

  /// The most hours one time entry may carry.
  public static let maximumHours: Double = 10_000

  /// The largest magnitude of a rate or an amount: 10^9.
  public static let maximumMagnitude: Double = 1_000_000_000

  /// Whether `value` lies within this field's bounds (never for an infinity or NaN).
  @inline(__always)
  public func allows(_ value: Double) -> Bool {
    switch self {
    case .hours: value > 0 && value <= Self.maximumHours
    case .rate: value >= 0 && value <= Self.maximumMagnitude
    case .amount: value >= -Self.maximumMagnitude && value <= Self.maximumMagnitude
    }
  }

  /// The bounds in words, such as "greater than 0 and at most 10000".
  public var bounds: String {
    switch self {
    case .hours: "greater than 0 and at most 10000"
    case .rate: "from 0 to 1000000000 (not negative)"
    case .amount: "from -1000000000 to 1000000000"
    }
  }

  /// Why `value` is not allowed here, or `nil` when it is: "'hours' must be … found 20000".
  func problem(_ value: Double) -> String? {
    allows(value) ? nil : problem(found: Self.describe(value))
  }

  /// Why a value written as `found` is not allowed here.
  func problem(found: String) -> String {
    "'\(rawValue)' must be a number \(bounds), found \(found)"
  }

  /// `value` as the event format writes it; an infinity or NaN in words.
  static func describe(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-infinity" : "infinity" }
    return JSONWriter.string(.number(value))
  }
}

extension NumberField {
  /// For a number too large for a `Double` at `offset` of the event line `line` (which the JSON
  /// parser refuses before any field is read): why, in the words of the field's bounds when it
  /// is the value of `hours`, `rate` or `amount`; else `nil`.
  package static func problem(numberAt offset: Int, in line: UnsafeBufferPointer<UInt8>) -> String? {
    guard offset >= 0, offset < line.count else { return nil }
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    var end = offset
    while end < line.count, let byte = Optional(line[end]),
      (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
        || byte == UInt8(ascii: "E")
    {
      end += 1
    }
    // Back from the number: optional space, ':', optional space, the key's closing quote.
    var at = offset - 1
    while at >= 0, isSpace(line[at]) { at -= 1 }
    guard at >= 0, line[at] == UInt8(ascii: ":") else { return nil }
    at -= 1
    while at >= 0, isSpace(line[at]) { at -= 1 }
    guard at >= 1, line[at] == UInt8(ascii: "\"") else { return nil }
    let keyEnd = at
    at -= 1
    while at >= 0, line[at] != UInt8(ascii: "\"") { at -= 1 }
    guard at >= 0 else { return nil }
    let key = String(decoding: UnsafeBufferPointer(rebasing: line[(at + 1)..<keyEnd]), as: UTF8.self)
    guard let field = NumberField(rawValue: key) else { return nil }
    let text = String(decoding: UnsafeBufferPointer(rebasing: line[offset..<end]), as: UTF8.self)
    return "field " + field.problem(found: text)
  }
}
