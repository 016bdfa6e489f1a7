/// An instant in time with microsecond precision, read and written as RFC 3339.
///
/// Parsing accepts `YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM)` with years 0000–9999 (lowercase
/// `t` and `z` allowed) and rejects everything else with a specific reason. The canonical
/// form (`rfc3339`) is UTC with `Z` and a fraction only when it is non-zero.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// Microseconds since 1970-01-01T00:00:00Z (negative before it).
  public var microseconds: Int64

  /// Creates a timestamp from microseconds since 1970-01-01T00:00:00Z.
  public init(microseconds: Int64) {
    self.microseconds = microseconds
  }

  /// Parses an RFC 3339 date-time; `nil` if it is invalid (use `parse(_:)` to learn why).
  public init?(rfc3339 text: String) {
    guard case .success(let timestamp) = Timestamp.parse(text) else { return nil }
    self = timestamp
  }

  /// The earliest instant the RFC 3339 forms can express: 0000-01-01T00:00:00Z.
  public static let minRFC3339 = Timestamp(
    microseconds: daysFromCivil(year: 0, month: 1, day: 1) * microsecondsPerDay)

  /// The latest instant the RFC 3339 forms can express: 9999-12-31T23:59:59.999999Z.
  public static let maxRFC3339 = Timestamp(
    microseconds: daysFromCivil(year: 10_000, month: 1, day: 1) * microsecondsPerDay - 1)

  /// Returns whether `lhs` is earlier than `rhs`.
  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.microseconds < rhs.microseconds
  }

  /// The canonical RFC 3339 form, e.g. "2026-03-02T07:00:00.123Z".
  public var description: String { rfc3339 }

  /// Parses an RFC 3339 date-time such as "2026-03-02T09:00:00Z" or
  /// "2026-03-02T09:00:00.123+02:00", explaining any failure.
  ///
  /// A time is kept to the microsecond: fraction digits past the sixth are dropped. Leap seconds
  /// (second 60) and times whose UTC equivalent falls outside years 0000–9999 are rejected
  /// because they cannot be represented.
  public static func parse(_ text: String) -> Result<Timestamp, TimestampError> {
    var text = text
    return text.withUTF8 { parse(utf8: $0) }
  }

  /// Parses an RFC 3339 date-time from its UTF-8 bytes, exactly as ``parse(_:)`` parses the
  /// string of those bytes.
  static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<Timestamp, TimestampError> {
    var parser = TimestampParser(bytes: bytes)
    return Result { () throws(TimestampError) in try parser.parse() }
  }

  /// The canonical form: UTC with "Z", fraction only when non-zero and without trailing zeros
  /// ("2026-03-02T09:00:00Z", "2026-03-02T07:00:00.123Z").
  ///
  /// Instants outside years 0000–9999 (only reachable through `init(microseconds:)`) are written
  /// with a signed, expanded year ("-0001-12-31T23:00:00Z", "+10000-01-01T00:00:00Z"); `parse`
  /// rejects those.
  public var rfc3339: String {
    // Floor division written so that it cannot overflow near Int64.min.
    var days = microseconds / Self.microsecondsPerDay
    var micros = microseconds % Self.microsecondsPerDay
    if micros < 0 {
      micros += Self.microsecondsPerDay
      days -= 1
    }
    let (year, month, day) = Self.civilFromDays(days)
    let seconds = micros / 1_000_000
    var fraction = micros % 1_000_000
    var fractionWidth = 6
    while fraction != 0 && fraction % 10 == 0 {
      fraction /= 10
      fractionWidth -= 1
    }
    return String(unsafeUninitializedCapacity: 40) { buffer in
      let p = buffer.baseAddress!
      var count = 0
      func put(_ value: Int64, _ width: Int, _ separator: Unicode.Scalar) {
        count += writeDecimal(value.magnitude, width: width, to: p + count)
        p[count] = UInt8(ascii: separator)
        count += 1
      }
      if year < 0 || year > 9999 {
        p[0] = UInt8(ascii: year < 0 ? "-" : "+")
        count = 1
      }
      put(year, 4, "-")
      put(month, 2, "-")
      put(day, 2, "T")
      put(seconds / 3600, 2, ":")
      put(seconds / 60 % 60, 2, ":")
      put(seconds % 60, 2, fraction == 0 ? "Z" : ".")
      if fraction != 0 { put(fraction, fractionWidth, "Z") }
      return count
    }
  }

  // MARK: Calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms)

  static let microsecondsPerDay: Int64 = 86_400_000_000

  /// Days since 1970-01-01 for a proleptic Gregorian date.
  static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  /// The proleptic Gregorian date `days` after 1970-01-01.
  static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra =
      (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (year, month, day)
  }

  static func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }
}

/// Why `Timestamp.parse(_:)` rejected a string.
public struct TimestampError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A short, lowercase reason, e.g. "month 13 is out of range".
  public var message: String
  /// The 0-based UTF-8 offset in the input where the problem was found.
  public var offset: Int

  /// Creates an error with a reason and the offset it applies to.
  public init(message: String, offset: Int) {
    self.message = message
    self.offset = offset
  }

  /// The message followed by the offset.
  public var description: String { "\(message) (at offset \(offset))" }
}

// MARK: - Implementation

private struct TimestampParser {
  let bytes: UnsafeBufferPointer<UInt8>
  var pos = 0

  static let monthNames = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ]

  func fail(_ message: String, at offset: Int? = nil) -> TimestampError {
    TimestampError(message: message, offset: offset ?? pos)
  }

  /// Reads exactly `count` ASCII digits, or returns `nil` without moving.
  @inline(__always)
  mutating func digits(_ count: Int) -> Int64? {
    guard pos + count <= bytes.count else { return nil }
    var value: Int64 = 0
    for i in pos..<pos + count {
      let d = bytes[i] &- UInt8(ascii: "0")
      guard d < 10 else { return nil }
      value = value * 10 + Int64(d)
    }
    pos += count
    return value
  }

  /// Reads the 2-digit field `name`, which must lie in `range`.
  @inline(__always)
  mutating func field(_ name: String, _ range: ClosedRange<Int64>, hint: String = "") throws(TimestampError) -> Int64 {
    guard let value = digits(2) else { throw fail("expected a 2-digit \(name)\(hint)") }
    guard value >= range.lowerBound && value <= range.upperBound else {
      throw fail("\(name) \(value) is out of range", at: pos - 2)
    }
    return value
  }

  /// Reads `ascii` (either case of a letter with `anyCase`), or fails with `message`.
  @inline(__always)
  mutating func expect(_ ascii: Unicode.Scalar, anyCase: Bool = false, _ message: String) throws(TimestampError) {
    guard pos < bytes.count, bytes[pos] | (anyCase ? 0x20 : 0) == UInt8(ascii: ascii) else { throw fail(message) }
    pos += 1
  }

  mutating func parse() throws(TimestampError) -> Timestamp {
    if bytes.isEmpty { throw fail("empty string") }
    guard let year = digits(4) else { throw fail("expected a 4-digit year") }
    try expect("-", "expected '-' after the year")
    let month = try field("month", 1...12)
    try expect("-", "expected '-' after the month")
    let day = try field("day", 0...99)
    guard (1...Timestamp.daysInMonth(year: year, month: month)).contains(day) else {
      let yearText = String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<4]), as: UTF8.self)
      throw fail("day \(day) is out of range for \(Self.monthNames[Int(month) - 1]) \(yearText)", at: pos - 2)
    }
    try expect("t", anyCase: true, "expected 'T' between date and time")
    let hour = try field("hour", 0...23)
    try expect(":", "expected ':' after the hour")
    let minute = try field("minute", 0...59)
    try expect(":", "expected ':' after the minute (seconds are required)")
    let second = try field("second", 0...60)
    if second == 60 { throw fail("second 60 (a leap second) cannot be represented", at: pos - 2) }

    var fraction: Int64 = 0
    if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      let fractionOffset = pos
      while pos < bytes.count, bytes[pos] &- UInt8(ascii: "0") < 10 {
        if pos - fractionOffset < 6 { fraction = fraction * 10 + Int64(bytes[pos] &- UInt8(ascii: "0")) }
        pos += 1
      }
      let count = pos - fractionOffset
      guard count > 0 else { throw fail("expected digits after '.'") }
      // Kept to the microsecond: digits past the sixth (a clock's nanoseconds) are dropped.
      for _ in min(count, 6)..<6 { fraction *= 10 }
    }

    var offsetMinutes: Int64 = 0
    let sign = pos < bytes.count ? bytes[pos] : 0
    if sign | 0x20 == UInt8(ascii: "z") {
      pos += 1
    } else if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
      pos += 1
      let offsetHour = try field("offset hour", 0...23, hint: " (±HH:MM)")
      try expect(":", "expected ':' in the time zone offset (±HH:MM)")
      let offsetMinute = try field("offset minute", 0...59, hint: " (±HH:MM)")
      offsetMinutes = (offsetHour * 60 + offsetMinute) * (sign == UInt8(ascii: "-") ? -1 : 1)
    } else {
      throw fail("missing time zone (use Z or ±HH:MM)")
    }
    guard pos >= bytes.count else { throw fail("trailing characters after the time zone") }

    let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
    let timestamp = Timestamp(microseconds: seconds * 1_000_000 + fraction)
    guard timestamp >= Timestamp.minRFC3339, timestamp <= Timestamp.maxRFC3339 else {
      throw fail("time is outside years 0000–9999 in UTC", at: 0)
    }
    return timestamp
  }
}
