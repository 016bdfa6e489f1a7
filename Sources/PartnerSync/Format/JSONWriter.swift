/// Writes `JSONValue`s in canonical form: deterministic byte-for-byte.
///
/// - No whitespace.
/// - With `sortedKeys`, object members are ordered by the UTF-8 bytes of their keys (members
///   with equal keys keep their relative order); otherwise source order is kept.
/// - Strings escape only `"`, `\` and control characters below U+0020 (`\b \f \n \r \t`, the
///   rest as `\u00xx` with lowercase hex); everything else, including `/` and U+007F, is raw
///   UTF-8.
/// - Integral numbers with magnitude below 2^53 are written as integers (`-0` as `0`); all
///   other numbers use Swift's shortest round-trip `description` (`0.1`, `1e+30`, `5e-324`,
///   `9007199254740992.0`), which is always valid JSON for finite values. Non-finite numbers
///   cannot be represented and are written as `null`.
struct JSONWriter {
  /// The UTF-8 output so far.
  var bytes: [UInt8]

  /// Creates an empty writer, optionally reserving space for `capacity` bytes.
  init(reservingCapacity capacity: Int = 256) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  /// Appends the canonical form of `value`.
  mutating func write(_ value: JSONValue, sortedKeys: Bool) {
    switch value {
    case .null:
      append("null")
    case .bool(let b):
      append(b ? "true" : "false")
    case .number(let d):
      writeNumber(d)
    case .string(let s):
      writeString(s)
    case .array(let elements):
      bytes.append(UInt8(ascii: "["))
      var first = true
      for element in elements {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        write(element, sortedKeys: sortedKeys)
      }
      bytes.append(UInt8(ascii: "]"))
    case .object(let members):
      bytes.append(UInt8(ascii: "{"))
      if sortedKeys && !Self.isSorted(members) {
        let order = members.indices.sorted { i, j in
          let a = members[i].key
          let b = members[j].key
          return JSONValue.utf8Equal(a, b) ? i < j : JSONValue.utf8Less(a, b)
        }
        var first = true
        for i in order {
          if !first { bytes.append(UInt8(ascii: ",")) }
          first = false
          writeMember(members[i], sortedKeys: sortedKeys)
        }
      } else {
        var first = true
        for member in members {
          if !first { bytes.append(UInt8(ascii: ",")) }
          first = false
          writeMember(member, sortedKeys: sortedKeys)
        }
      }
      bytes.append(UInt8(ascii: "}"))
    }
  }

  /// The canonical form of `value` as a string.
  static func string(_ value: JSONValue, sortedKeys: Bool = true) -> String {
    String(decoding: encode(value, sortedKeys: sortedKeys), as: UTF8.self)
  }

  /// The canonical form of `value` as UTF-8 bytes.
  static func encode(_ value: JSONValue, sortedKeys: Bool = true) -> [UInt8] {
    var writer = JSONWriter()
    writer.write(value, sortedKeys: sortedKeys)
    return writer.bytes
  }

  /// `s` as a JSON string literal, quotes included (`"a\"b"`).
  static func quoted(_ s: String) -> String {
    var writer = JSONWriter(reservingCapacity: s.utf8.count + 2)
    writer.writeString(s)
    return String(decoding: writer.bytes, as: UTF8.self)
  }

  // MARK: Pieces

  private mutating func writeMember(
    _ member: (key: String, value: JSONValue), sortedKeys: Bool
  ) {
    writeString(member.key)
    bytes.append(UInt8(ascii: ":"))
    write(member.value, sortedKeys: sortedKeys)
  }

  private static func isSorted(_ members: [(key: String, value: JSONValue)]) -> Bool {
    var i = 1
    while i < members.count {
      if JSONValue.utf8Less(members[i].key, members[i - 1].key) { return false }
      i += 1
    }
    return true
  }

  @inline(__always)
  private mutating func append(_ ascii: StaticString) {
    bytes.append(
      contentsOf: UnsafeBufferPointer(start: ascii.utf8Start, count: ascii.utf8CodeUnitCount))
  }

  /// Appends `s` as a JSON string literal with minimal escaping.
  mutating func writeString(_ s: String) {
    bytes.append(UInt8(ascii: "\""))
    var s = s
    s.withUTF8 { utf8 in
      var runStart = 0
      var i = 0
      while i < utf8.count {
        let byte = utf8[i]
        if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
          i += 1
          continue
        }
        if runStart < i {
          bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
        }
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
          let hexDigits: StaticString = "0123456789abcdef"
          bytes.append(UInt8(ascii: "u"))
          bytes.append(UInt8(ascii: "0"))
          bytes.append(UInt8(ascii: "0"))
          bytes.append(hexDigits.utf8Start[Int(byte >> 4)])
          bytes.append(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
        i += 1
        runStart = i
      }
      if runStart < utf8.count {
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  /// Appends `d` in canonical number form (see the type documentation).
  mutating func writeNumber(_ d: Double) {
    guard d.isFinite else {
      append("null")
      return
    }
    let twoTo53 = 9_007_199_254_740_992.0
    if d.magnitude < twoTo53, case let n = Int64(d), Double(n) == d {
      if n < 0 { bytes.append(UInt8(ascii: "-")) }
      var magnitude = n.magnitude
      let start = bytes.count
      repeat {
        bytes.append(UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30)
        magnitude /= 10
      } while magnitude > 0
      bytes[start...].reverse()
      return
    }
    bytes.append(contentsOf: d.description.utf8)
  }
}
