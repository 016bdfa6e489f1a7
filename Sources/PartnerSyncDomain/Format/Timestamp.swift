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
  /// Leap seconds (second 60), more than 6 fraction digits and times whose UTC equivalent falls
  /// outside years 0000–9999 are rejected because they cannot be represented exactly.
  public static func parse(_ text: String) -> Result<Timestamp, TimestampError> {
    let result = text.utf8.withContiguousStorageIfAvailable {
      var parser = TimestampParser(bytes: $0)
      return parser.parse()
    }
    if let result { return result }
    return Array(text.utf8).withUnsafeBufferPointer {  // non-contiguous (bridged) strings
      var parser = TimestampParser(bytes: $0)
      return parser.parse()
    }
  }

  /// Parses an RFC 3339 date-time from its UTF-8 bytes, exactly as ``parse(_:)`` parses the
  /// string of those bytes.
  static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<Timestamp, TimestampError> {
    var parser = TimestampParser(bytes: bytes)
    return parser.parse()
  }

  /// ``parse(utf8:)`` without its shortcut for the two common forms: every text step by step
  /// (what the shortcut is tested against).
  static func parseStepByStep(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<Timestamp, TimestampError> {
    var parser = TimestampParser(bytes: bytes)
    return parser.parseStepByStep()
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

    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
      var out = DigitWriter(base: buffer.baseAddress!)
      if year < 0 {
        out.put("-")
        out.digits(-year, width: 4)
      } else if year > 9999 {
        out.put("+")
        out.digits(year, width: 4)
      } else {
        out.digits(year, width: 4)
      }
      out.put("-")
      out.digits(month, width: 2)
      out.put("-")
      out.digits(day, width: 2)
      out.put("T")
      out.digits(seconds / 3600, width: 2)
      out.put(":")
      out.digits(seconds / 60 % 60, width: 2)
      out.put(":")
      out.digits(seconds % 60, width: 2)
      if fraction != 0 {
        var width = 6
        while fraction % 10 == 0 {
          fraction /= 10
          width -= 1
        }
        out.put(".")
        out.digits(fraction, width: width)
      }
      out.put("Z")
      return String(
        decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: out.count), as: UTF8.self)
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

  static func isLeapYear(_ year: Int64) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  static func daysInMonth(year: Int64, month: Int64) -> Int64 {
    switch month {
    case 2: return isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
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

/// Writes ASCII into a buffer known to be large enough.
private struct DigitWriter {
  let base: UnsafeMutablePointer<UInt8>
  var count = 0

  mutating func put(_ ascii: Unicode.Scalar) {
    base[count] = UInt8(ascii: ascii)
    count += 1
  }

  /// Writes the decimal digits of `value`'s magnitude, left-padded with zeros to `width`.
  mutating func digits(_ value: Int64, width: Int) {
    var v = value.magnitude
    var length = 1
    var rest = v / 10
    while rest > 0 {
      length += 1
      rest /= 10
    }
    var padding = width - length
    while padding > 0 {
      put("0")
      padding -= 1
    }
    count += length
    var p = base + count
    repeat {
      p -= 1
      p.pointee = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
      v /= 10
    } while v > 0
  }
}

private struct TimestampParser {
  let bytes: UnsafeBufferPointer<UInt8>
  var pos = 0

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  func fail(_ message: String, at offset: Int? = nil) -> Result<Timestamp, TimestampError> {
    .failure(TimestampError(message: message, offset: offset ?? pos))
  }

  /// Reads exactly `count` ASCII digits, or returns `nil` without moving.
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

  mutating func expect(_ ascii: Unicode.Scalar) -> Bool {
    guard pos < bytes.count, bytes[pos] == UInt8(ascii: ascii) else { return false }
    pos += 1
    return true
  }

  var isAtEnd: Bool { pos >= bytes.count }

  mutating func parse() -> Result<Timestamp, TimestampError> {
    if let timestamp = commonForm() { return .success(timestamp) }
    return parseStepByStep()
  }

  mutating func parseStepByStep() -> Result<Timestamp, TimestampError> {
    if bytes.isEmpty { return fail("empty string") }

    // Date.
    guard let year = digits(4) else { return fail("expected a 4-digit year") }
    guard expect("-") else { return fail("expected '-' after the year") }
    let monthOffset = pos
    guard let month = digits(2) else { return fail("expected a 2-digit month") }
    guard (1...12).contains(month) else {
      return fail("month \(month) is out of range", at: monthOffset)
    }
    guard expect("-") else { return fail("expected '-' after the month") }
    let dayOffset = pos
    guard let day = digits(2) else { return fail("expected a 2-digit day") }
    let monthLength = Timestamp.daysInMonth(year: year, month: month)
    guard (1...monthLength).contains(day) else {
      let monthName = Self.monthNames[Int(month) - 1]
      return fail(
        "day \(day) is out of range for \(monthName) \(pad(year, 4))", at: dayOffset)
    }

    // Separator.
    guard pos < bytes.count else { return fail("expected 'T' between date and time") }
    guard bytes[pos] == UInt8(ascii: "T") || bytes[pos] == UInt8(ascii: "t") else {
      return fail("expected 'T' between date and time")
    }
    pos += 1

    // Time.
    let hourOffset = pos
    guard let hour = digits(2) else { return fail("expected a 2-digit hour") }
    guard hour < 24 else { return fail("hour \(hour) is out of range", at: hourOffset) }
    guard expect(":") else { return fail("expected ':' after the hour") }
    let minuteOffset = pos
    guard let minute = digits(2) else { return fail("expected a 2-digit minute") }
    guard minute < 60 else {
      return fail("minute \(minute) is out of range", at: minuteOffset)
    }
    guard expect(":") else { return fail("expected ':' after the minute (seconds are required)") }
    let secondOffset = pos
    guard let second = digits(2) else { return fail("expected a 2-digit second") }
    if second == 60 {
      return fail("second 60 (a leap second) cannot be represented", at: secondOffset)
    }
    guard second < 60 else {
      return fail("second \(second) is out of range", at: secondOffset)
    }

    // Fraction.
    var fraction: Int64 = 0
    if expect(".") {
      let fractionOffset = pos
      var count = 0
      while pos < bytes.count, bytes[pos] &- UInt8(ascii: "0") < 10 {
        if count < 6 { fraction = fraction * 10 + Int64(bytes[pos] &- UInt8(ascii: "0")) }
        count += 1
        pos += 1
      }
      guard count > 0 else { return fail("expected digits after '.'") }
      guard count <= 6 else {
        return fail(
          "too many fraction digits (\(count); at most 6, microsecond precision)",
          at: fractionOffset)
      }
      for _ in count..<6 { fraction *= 10 }
    }

    // Time zone.
    guard pos < bytes.count else { return fail("missing time zone (use Z or ±HH:MM)") }
    var offsetMinutes: Int64 = 0
    switch bytes[pos] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
      pos += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      let negative = bytes[pos] == UInt8(ascii: "-")
      pos += 1
      let offsetHourOffset = pos
      guard let offsetHour = digits(2) else {
        return fail("expected a 2-digit offset hour (±HH:MM)")
      }
      guard offsetHour < 24 else {
        return fail("offset hour \(offsetHour) is out of range", at: offsetHourOffset)
      }
      guard expect(":") else { return fail("expected ':' in the time zone offset (±HH:MM)") }
      let offsetMinuteOffset = pos
      guard let offsetMinute = digits(2) else {
        return fail("expected a 2-digit offset minute (±HH:MM)")
      }
      guard offsetMinute < 60 else {
        return fail("offset minute \(offsetMinute) is out of range", at: offsetMinuteOffset)
      }
      offsetMinutes = (offsetHour * 60 + offsetMinute) * (negative ? -1 : 1)
    default:
      return fail("missing time zone (use Z or ±HH:MM)")
    }
    guard isAtEnd else { return fail("trailing characters after the time zone") }

    let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
    let localSeconds = days * 86_400 + hour * 3600 + minute * 60 + second
    let utcSeconds = localSeconds - offsetMinutes * 60
    let timestamp = Timestamp(microseconds: utcSeconds * 1_000_000 + fraction)
    guard timestamp >= Timestamp.minRFC3339, timestamp <= Timestamp.maxRFC3339 else {
      return fail("time is outside years 0000–9999 in UTC", at: 0)
    }
    return .success(timestamp)
  }

  /// The time when the text has one of the two forms that logs are made of,
  /// `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.fffZ`, and is valid; `nil` for any other
  /// text, which the parser then reads step by step (with the same outcome for these forms).
  private func commonForm() -> Timestamp? {
    let count = bytes.count
    guard count == 20 || count == 24, let p = bytes.baseAddress else { return nil }
    guard p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-"), p[10] == UInt8(ascii: "T"),
      p[13] == UInt8(ascii: ":"), p[16] == UInt8(ascii: ":"), p[count - 1] == UInt8(ascii: "Z"),
      count == 20 || p[19] == UInt8(ascii: ".")
    else { return nil }
    var invalid: UInt8 = 0
    @inline(__always) func digit(_ i: Int) -> Int64 {
      let d = p[i] &- UInt8(ascii: "0")
      invalid |= d > 9 ? 1 : 0
      return Int64(d)
    }
    let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
    let month = digit(5) * 10 + digit(6)
    let day = digit(8) * 10 + digit(9)
    let hour = digit(11) * 10 + digit(12)
    let minute = digit(14) * 10 + digit(15)
    let second = digit(17) * 10 + digit(18)
    let fraction = count == 24 ? (digit(20) * 100 + digit(21) * 10 + digit(22)) * 1000 : 0
    guard invalid == 0, month >= 1, month <= 12, day >= 1, hour < 24, minute < 60, second < 60,
      day <= Timestamp.daysInMonth(year: year, month: month)
    else { return nil }
    let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
    return Timestamp(microseconds: seconds * 1_000_000 + fraction)
  }

  func pad(_ value: Int64, _ width: Int) -> String {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
      var out = DigitWriter(base: buffer.baseAddress!)
      out.digits(value, width: width)
      return String(
        decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: out.count), as: UTF8.self)
    }
  }

  static let monthNames = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ]
}
