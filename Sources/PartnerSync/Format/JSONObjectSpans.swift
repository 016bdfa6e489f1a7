/// The members of a flat JSON object, found in place: where each key and value lies in the input,
/// without building a `JSONValue` tree.
///
/// This is the fast path for the one shape that every event has (an object of strings, numbers
/// and Booleans). ``scan(_:_:)`` hands the members over only when the input is such an object and
/// valid JSON; for anything else (nested values, escaped keys, duplicate keys, any syntax error)
/// it returns `nil`, and the caller uses `JSONParser`, which then also names the problem. A
/// value is converted only when it is read, by the same code as the parser's (escaped strings and
/// numbers go through `JSONParser` itself), so both paths read every accepted input alike.
struct JSONObjectSpans {
  /// What a member's value is.
  enum Kind: UInt8 {
    /// A string without escapes (validated UTF-8, no control characters).
    case plainString
    /// A string with at least one backslash escape.
    case escapedString
    /// A number (its grammar is checked when it is converted).
    case number
    case `true`
    case `false`
    case null
  }

  /// Where one member's key (between the quotes) and value (the whole token) lie; 32-bit
  /// offsets keep the members of an event within stack memory.
  struct Member {
    var keyStart: Int32
    var keyCount: Int32
    var valueStart: Int32
    var valueCount: Int32
    var kind: Kind
    /// The raw value of the event key (``FieldKey``) that the key is, or ``unknownKey``.
    var field: UInt8
  }

  /// ``Member/field`` of a key that is no event key.
  static let unknownKey: UInt8 = 255

  /// The most members the fast path takes; wider objects go to the parser.
  static let maximumMembers = 32

  let base: UnsafePointer<UInt8>
  let members: UnsafeMutableBufferPointer<Member>
  let count: Int

  /// The bytes of member `index`'s key.
  func key(at index: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: base + Int(members[index].keyStart), count: Int(members[index].keyCount))
  }

  /// Whether member `index`'s key is `name` (compared byte for byte).
  func key(at index: Int, is name: String) -> Bool {
    let member = members[index]
    guard name.utf8.count == Int(member.keyCount) else { return false }
    return name.withUTF8Bytes { bytes in
      bytes.count == 0 || memoryEqual(bytes.baseAddress!, base + Int(member.keyStart), count: bytes.count)
    }
  }

  /// The content bytes of member `index`'s value when it is a string without escapes (so without
  /// NUL or control characters), else `nil`.
  func plainString(at index: Int) -> UnsafeBufferPointer<UInt8>? {
    let member = members[index]
    guard member.kind == .plainString else { return nil }
    return UnsafeBufferPointer(start: base + Int(member.valueStart) + 1, count: Int(member.valueCount) - 2)
  }

  /// Member `index`'s value, or `nil` when it is not valid after all (an escape or a number the
  /// parser refuses).
  func value(at index: Int) -> JSONValue? {
    let member = members[index]
    let token = UnsafeBufferPointer(start: base + Int(member.valueStart), count: Int(member.valueCount))
    switch member.kind {
    case .plainString:
      return .string(
        String(decoding: UnsafeBufferPointer(rebasing: token[1..<token.count - 1]), as: UTF8.self))
    case .number:
      return JSONParser.number(token).map { .number($0) }
    case .escapedString:
      return try? JSONParser.parse(token)
    case .true: return .bool(true)
    case .false: return .bool(false)
    case .null: return .null
    }
  }

  /// Finds the members of the flat object that `bytes` holds and passes them to `body`; `nil`
  /// when `bytes` is not such an object (see the type's documentation).
  static func scan<Result>(
    _ bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONObjectSpans) -> Result?
  ) -> Result? {
    guard let base = bytes.baseAddress, !bytes.isEmpty, bytes.count < Int(Int32.max) else { return nil }
    return withUnsafeTemporaryAllocation(of: Member.self, capacity: maximumMembers) { storage in
      guard let count = findMembers(base, bytes.count, into: storage) else { return nil }
      return body(JSONObjectSpans(base: base, members: storage, count: count))
    }
  }

  // MARK: Scanning

  @inline(__always)
  private static func isWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
  }

  /// Fills `storage` with the members and returns how many, or `nil`.
  ///
  /// Each key is recognised as it is found (``Member/field``): a repeated event key is then one
  /// bit test, and only keys that are no event key (refused later anyway) are compared byte for
  /// byte with each other.
  private static func findMembers(
    _ base: UnsafePointer<UInt8>, _ count: Int, into storage: UnsafeMutableBufferPointer<Member>
  ) -> Int? {
    var pos = 0
    func skipWhitespace() {
      while pos < count, base[pos] <= 0x20, isWhitespace(base[pos]) { pos += 1 }
    }
    skipWhitespace()
    guard pos < count, base[pos] == UInt8(ascii: "{") else { return nil }
    pos += 1
    skipWhitespace()
    var found = 0
    var seenFields: UInt32 = 0
    var unknownKeys = false
    if pos < count, base[pos] == UInt8(ascii: "}") {
      pos += 1
    } else {
      while true {
        // The key: printable ASCII without escapes.
        guard found < storage.count, pos < count, base[pos] == UInt8(ascii: "\"") else { return nil }
        let keyStart = pos + 1
        guard let keyEnd = keyEnd(base, count, from: keyStart) else { return nil }
        let keyCount = keyEnd - keyStart
        pos = keyEnd + 1
        let field: UInt8
        if let key = FieldKey(utf8: UnsafeBufferPointer(start: base + keyStart, count: keyCount)) {
          let bit: UInt32 = 1 << UInt32(key.rawValue)
          guard seenFields & bit == 0 else { return nil }  // a duplicate key: the parser says so
          seenFields |= bit
          field = key.rawValue
        } else {
          if unknownKeys {
            for other in 0..<found
            where storage[other].field == unknownKey && Int(storage[other].keyCount) == keyCount {
              if keyCount == 0
                || memoryEqual(base + keyStart, base + Int(storage[other].keyStart), count: keyCount)
              {
                return nil
              }
            }
          }
          unknownKeys = true
          field = unknownKey
        }
        skipWhitespace()
        guard pos < count, base[pos] == UInt8(ascii: ":") else { return nil }
        pos += 1
        skipWhitespace()
        guard pos < count else { return nil }
        let valueStart = pos
        let kind: Kind
        switch base[pos] {
        case UInt8(ascii: "\""):
          guard let end = stringEnd(base, count, from: pos + 1) else { return nil }
          kind = end.escaped ? .escapedString : .plainString
          pos = end.position
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
          pos += 1
          while pos < count {
            switch base[pos] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
              UInt8(ascii: "+"), UInt8(ascii: "-"):
              pos += 1
              continue
            default: break
            }
            break
          }
          kind = .number
        case UInt8(ascii: "t"):
          guard matches("true", base, count, at: pos) else { return nil }
          pos += 4
          kind = .true
        case UInt8(ascii: "f"):
          guard matches("false", base, count, at: pos) else { return nil }
          pos += 5
          kind = .false
        case UInt8(ascii: "n"):
          guard matches("null", base, count, at: pos) else { return nil }
          pos += 4
          kind = .null
        default:
          return nil  // nested values and every error: the parser's business
        }
        // Every offset is below `count`, which `scan` keeps below `Int32.max`.
        storage[found] = Member(
          keyStart: Int32(truncatingIfNeeded: keyStart), keyCount: Int32(truncatingIfNeeded: keyCount),
          valueStart: Int32(truncatingIfNeeded: valueStart), valueCount: Int32(truncatingIfNeeded: pos - valueStart),
          kind: kind, field: field)
        found += 1
        skipWhitespace()
        guard pos < count else { return nil }
        if base[pos] == UInt8(ascii: "}") {
          pos += 1
          break
        }
        guard base[pos] == UInt8(ascii: ",") else { return nil }
        pos += 1
        skipWhitespace()
      }
    }
    skipWhitespace()
    return pos == count ? found : nil
  }

  /// The position of the closing quote of the key whose text starts at `start`, or `nil` when
  /// the key is unterminated or holds anything but printable ASCII other than a backslash.
  @inline(__always)
  private static func keyEnd(_ base: UnsafePointer<UInt8>, _ count: Int, from start: Int) -> Int? {
    var pos = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    // Eight bytes at a time: the first byte that is a quote, a backslash, DEL, a control
    // character or not ASCII ends the scan; only a quote ends the key.
    while pos &+ 8 <= count {
      let word = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
      let quotes = word ^ (ones &* 0x22)
      let backslashes = word ^ (ones &* 0x5C)
      let deletes = word ^ (ones &* 0x7F)
      let hits =
        ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes) | ((deletes &- ones) & ~deletes)
        | (word &- ones &* 0x20) | word
      let attention = hits & 0x8080_8080_8080_8080
      if attention != 0 {
        let end = pos &+ (attention.trailingZeroBitCount &>> 3)
        return base[end] == UInt8(ascii: "\"") ? end : nil
      }
      pos &+= 8
    }
    while pos < count {
      let byte = base[pos]
      if byte == UInt8(ascii: "\"") { return pos }
      guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
      pos += 1
    }
    return nil
  }

  /// The position after the closing quote of the string whose content starts at `start`, and
  /// whether it has escapes; `nil` for an unterminated string, a control character or invalid
  /// UTF-8.
  @inline(__always)
  private static func stringEnd(
    _ base: UnsafePointer<UInt8>, _ count: Int, from start: Int
  ) -> (position: Int, escaped: Bool)? {
    var pos = start
    var escaped = false
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highBits: UInt64 = 0x8080_8080_8080_8080
    while true {
      // Skip 8 plain bytes at a time (printable ASCII other than quote and backslash).
      while pos &+ 8 <= count {
        let word = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let controlHits = word &- ones &* 0x20
        let quoteHits = (quotes &- ones) & ~quotes
        let backslashHits = (backslashes &- ones) & ~backslashes
        let attention = (controlHits | quoteHits | backslashHits | word) & highBits
        if attention != 0 {
          pos &+= attention.trailingZeroBitCount &>> 3
          break
        }
        pos &+= 8
      }
      guard pos < count else { return nil }
      let byte = base[pos]
      if byte == UInt8(ascii: "\"") { return (pos + 1, escaped) }
      if byte == UInt8(ascii: "\\") {
        // The escape is checked when the value is converted; here only its end matters.
        escaped = true
        pos += 2
        continue
      }
      if byte < 0x20 { return nil }
      if byte < 0x80 {
        pos += 1
        continue
      }
      guard let length = utf8SequenceLength(base, count, at: pos) else { return nil }
      pos += length
    }
  }

  /// The length of the valid UTF-8 multi-byte sequence at `offset`, or `nil` (the parser's rule).
  private static func utf8SequenceLength(_ base: UnsafePointer<UInt8>, _ count: Int, at offset: Int) -> Int? {
    let lead = base[offset]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0:
      length = 3
      low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED:
      length = 3
      high = 0x9F
    case 0xF0:
      length = 4
      low = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4:
      length = 4
      high = 0x8F
    default: return nil
    }
    guard offset + length <= count else { return nil }
    let second = base[offset + 1]
    guard second >= low && second <= high else { return nil }
    var i = 2
    while i < length {
      guard base[offset + i] & 0xC0 == 0x80 else { return nil }
      i += 1
    }
    return length
  }

  private static func matches(_ word: StaticString, _ base: UnsafePointer<UInt8>, _ count: Int, at pos: Int) -> Bool {
    let length = word.utf8CodeUnitCount
    guard pos + length <= count else { return false }
    return memoryEqual(word.utf8Start, base + pos, count: length)
  }
}

/// Whether `bytes` are the UTF-8 bytes of `text`.
@inline(__always)
func bytesEqual(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
  bytes.count == text.utf8CodeUnitCount
    && (bytes.count == 0 || memoryEqual(bytes.baseAddress!, text.utf8Start, count: bytes.count))
}

/// Whether `count` bytes at `a` and `b` are equal: eight bytes at a time, the last eight (or
/// four) read again from the end rather than byte by byte.
@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
  @inline(__always) func word(_ p: UnsafePointer<UInt8>, _ at: Int) -> UInt64 {
    UnsafeRawPointer(p + at).loadUnaligned(as: UInt64.self)
  }
  @inline(__always) func half(_ p: UnsafePointer<UInt8>, _ at: Int) -> UInt32 {
    UnsafeRawPointer(p + at).loadUnaligned(as: UInt32.self)
  }
  if count >= 8 {
    var i = 0
    while i &+ 8 <= count {
      if word(a, i) != word(b, i) { return false }
      i &+= 8
    }
    return i == count || word(a, count &- 8) == word(b, count &- 8)
  }
  if count >= 4 {
    return half(a, 0) == half(b, 0) && half(a, count &- 4) == half(b, count &- 4)
  }
  var i = 0
  while i < count {
    if a[i] != b[i] { return false }
    i &+= 1
  }
  return true
}
