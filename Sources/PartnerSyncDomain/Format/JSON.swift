#if canImport(Glibc)
  import Glibc  // memcmp, memchr
#else
  import Darwin
#endif

/// A JSON value, as read by `JSONParser` and written by `JSONWriter`.
///
/// Objects keep their members in source order. Equality follows JSON semantics rather than
/// Swift `String` semantics so that two values are equal exactly when their canonical
/// serialisations are equal:
///
/// - strings and object keys compare by their UTF-8 bytes (no Unicode normalisation);
/// - objects compare as unordered collections of members (member order is ignored);
/// - numbers compare as `Double`s, so `0` equals `-0`.
public enum JSONValue: Sendable, Equatable {
  /// The literal `null`.
  case null
  /// The literal `true` or `false`.
  case bool(Bool)
  /// A number: finite (JSON has no infinity or NaN; ``jsonText`` asserts it). Integers are exact
  /// up to 2^53 in magnitude.
  case number(Double)
  /// A string.
  case string(String)
  /// An array.
  case array([JSONValue])
  /// An object. Members are kept in source order; parsed objects never contain duplicate keys.
  case object([(key: String, value: JSONValue)])

  /// Returns whether two JSON values are equal (see the type documentation for the rules).
  public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null):
      return true
    case (.bool(let a), .bool(let b)):
      return a == b
    case (.number(let a), .number(let b)):
      return a == b
    case (.string(let a), .string(let b)):
      return utf8Equal(a, b)
    case (.array(let a), .array(let b)):
      return a == b
    case (.object(let a), .object(let b)):
      return membersEqual(a, b)
    default:
      return false
    }
  }

  /// The value of the member named `key` if this is an object containing it, otherwise `nil`.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    for member in members where Self.utf8Equal(member.key, key) {
      return member.value
    }
    return nil
  }

  /// The string if this is `.string`, otherwise `nil`.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The number if this is `.number`, otherwise `nil`.
  public var doubleValue: Double? {
    if case .number(let d) = self { return d }
    return nil
  }

  /// The number as an `Int64` if this is `.number` holding an integral value that fits, else `nil`.
  public var int64Value: Int64? {
    // Written without `Int64(exactly:)`, which needs libm.
    guard case .number(let d) = self, d >= -0x1p63, d < 0x1p63 else { return nil }
    let n = Int64(d)
    return Double(n) == d ? n : nil
  }

  /// The Boolean if this is `.bool`, otherwise `nil`.
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The elements if this is `.array`, otherwise `nil`.
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The members in source order if this is `.object`, otherwise `nil`.
  public var objectValue: [(key: String, value: JSONValue)]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// Whether this is `.null`.
  public var isNull: Bool {
    if case .null = self { return true }
    return false
  }
}

extension JSONValue {
  /// Byte-wise equality of two strings (Swift's `==` would also equate canonically
  /// equivalent strings such as precomposed and decomposed "é").
  package static func utf8Equal(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && compareUTF8(a, b) == 0
  }

  /// Compares the UTF-8 bytes of two strings (`memcmp`, then the length): negative, zero or
  /// positive.
  package static func compareUTF8(_ a: String, _ b: String) -> Int {
    var a = a
    var b = b
    return a.withUTF8 { pa in
      b.withUTF8 { pb in
        let common = min(pa.count, pb.count)
        let order = common == 0 ? 0 : Int(memcmp(pa.baseAddress!, pb.baseAddress!, common))
        return order != 0 ? order : pa.count - pb.count
      }
    }
  }

  package static func membersEqual(
    _ a: [(key: String, value: JSONValue)],
    _ b: [(key: String, value: JSONValue)]
  ) -> Bool {
    guard a.count == b.count else { return false }
    // Compared after a stable sort by key bytes, so that member order is ignored.
    let sa = a.sorted { compareUTF8($0.key, $1.key) < 0 }
    let sb = b.sorted { compareUTF8($0.key, $1.key) < 0 }
    return zip(sa, sb).allSatisfy { utf8Equal($0.key, $1.key) && $0.value == $1.value }
  }
}

/// Bytes of JSON text looked at eight at a time.
enum JSONBytes {
  static let ones: UInt64 = 0x0101_0101_0101_0101
  static let highBits: UInt64 = 0x8080_8080_8080_8080

  /// The eight bytes at `p`, the first in the lowest bits.
  @inline(__always)
  static func word(_ p: UnsafePointer<UInt8>) -> UInt64 {
    UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
  }

  /// The bytes of `word` that end or interrupt a plain run of string text: a lane's high bit
  /// marks a byte below 0x20, a quote or a backslash. The lowest marked lane is exact (false
  /// positives only occur above a real one).
  @inline(__always)
  static func attention(_ word: UInt64) -> UInt64 {
    let quotes = word ^ (ones &* 0x22)
    let backslashes = word ^ (ones &* 0x5C)
    let controlHits = (word &- ones &* 0x20) & ~word
    let quoteHits = (quotes &- ones) & ~quotes
    let backslashHits = (backslashes &- ones) & ~backslashes
    return (controlHits | quoteHits | backslashHits) & highBits
  }
}

extension JSONValue: ExpressibleByNilLiteral {
  /// Creates `.null`.
  public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
  /// Creates `.bool`.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
  /// Creates `.number` from an integer literal.
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
  /// Creates `.number` from a floating-point literal.
  public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
  /// Creates `.string`.
  public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
  /// Creates `.array`.
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
  /// Creates `.object`, keeping the literal's member order.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(elements.map { (key: $0.0, value: $0.1) })
  }
}

/// Why `JSONParser` rejected its input.
package struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A short, lowercase description of the problem, e.g. "expected ':' after object key".
  package var message: String
  /// The 0-based byte offset in the input where the problem was found.
  package var offset: Int

  package var description: String { "\(message) (at byte \(offset))" }

  /// The message of a number too large for a `Double` (its offset is the number's first byte).
  package static let numberTooLarge = "number is too large"

  /// Whether this is a number too large for a `Double`, starting at `offset`.
  package var isNumberTooLarge: Bool { message == Self.numberTooLarge }
}

/// A strict RFC 8259 JSON parser: the one reader of every JSON text in the package, event lines
/// and stored event data included (an event is a flat object: ``parse(_:)-(UnsafeBufferPointer<UInt8>)``
/// gives its members, which `EventCodec` then reads by name).
///
/// Rejects trailing commas, comments, `NaN`/`Infinity`, leading zeros, unescaped control
/// characters, invalid escapes and lone surrogates, invalid UTF-8, NUL bytes outside escapes,
/// duplicate object keys (compared byte-wise after unescaping), numbers too large for a
/// `Double`, nesting deeper than `maxDepth`, and anything after the value other than
/// whitespace. Every error names the byte offset where it was found. Numbers that underflow
/// become zero or subnormal (as with `strtod`). The escape `\u0000` is valid JSON and is accepted.
package enum JSONParser {
  /// The deepest nesting of arrays and objects accepted.
  package static let maxDepth = 64

  /// Parses exactly one JSON value spanning the whole input (surrounding whitespace allowed).
  package static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      throw JSONParseError(message: "unexpected end of input", offset: 0)
    }
    var parser = Parser(base: base, count: bytes.count)
    parser.skipWhitespace()
    let value = try parser.parseValue(depth: 0)
    parser.skipWhitespace()
    if parser.pos != parser.count {
      throw parser.unexpected("trailing characters after the JSON value")
    }
    return value
  }

  /// Parses exactly one JSON value spanning the whole input (surrounding whitespace allowed),
  /// without building a tree when it is an object whose members are all scalars (an event),
  /// and lends what it read to `body`: the object's members, keys and strings as their bytes.
  /// Every input is checked exactly as ``parse(_:)-(UnsafeBufferPointer<UInt8>)`` checks it,
  /// with the same errors; a member whose value is an array or an object is read (and checked)
  /// too, and only its kind is kept. What `body` is lent is valid only during `body`.
  package static func withFlatObject<R>(
    _ bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONFlatRead) -> R
  ) throws(JSONParseError) -> R {
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      throw JSONParseError(message: "unexpected end of input", offset: 0)
    }
    // An event has a handful of members: they are kept on the stack unless there are more.
    let result = withUnsafeTemporaryAllocation(of: JSONFlatObject.Member.self, capacity: 16) { stack in
      var members = FlatMembers(base: stack.baseAddress!, capacity: stack.count)
      return Result { () throws(JSONParseError) in
        var parser = Parser(base: base, count: bytes.count)
        parser.skipWhitespace()
        let kind: JSONFlatObject.Value?
        if parser.pos < parser.count && base[parser.pos] == ASCII.openBrace {
          try parser.parseFlatMembers(into: &members)
          kind = nil
        } else {
          kind = JSONFlatObject.Value(kindOf: try parser.parseValue(depth: 0))
        }
        parser.skipWhitespace()
        if parser.pos != parser.count {
          throw parser.unexpected("trailing characters after the JSON value")
        }
        if let kind { return body(.notAnObject(kind)) }
        return body(
          .object(JSONFlatObject(members: members.buffer, input: base, decoded: parser.scratch)))
      }
    }
    return try result.get()
  }

  /// Parses exactly one JSON value spanning the whole string (surrounding whitespace allowed).
  package static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    var text = text
    return try text.withUTF8 { buffer in Result { () throws(JSONParseError) in try parse(buffer) } }.get()
  }

  /// Parses exactly one JSON value spanning the whole byte array (surrounding whitespace allowed).
  package static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    try bytes.withUnsafeBufferPointer { buffer in Result { () throws(JSONParseError) in try parse(buffer) } }.get()
  }
}

/// What ``JSONParser/withFlatObject(_:_:)`` read: an object's members, or what other value the
/// input holds.
package enum JSONFlatRead {
  /// An object (its members' values are scalars, or arrays and objects known by their kind only).
  case object(JSONFlatObject)
  /// A JSON value that is not an object.
  case notAnObject(JSONFlatObject.Value)
}

/// The bytes of a string read by `JSONParser`: in its input when the string has no escapes,
/// else (unescaped) in the ``JSONFlatObject/decoded`` bytes of the object read. Always valid UTF-8.
package struct JSONStringBytes {
  /// Where the bytes start.
  var start: Int
  /// How many bytes there are.
  var count: Int
  /// Whether the string had escapes (its bytes are then in ``JSONFlatObject/decoded``).
  var escaped: Bool
}

/// An object read by ``JSONParser/withFlatObject(_:_:)``: its members in source order, each key
/// and string value lent as bytes. Valid only while it is lent.
package struct JSONFlatObject {
  /// A member's value.
  package enum Value {
    case null
    case bool(Bool)
    case number(Double)
    case string(JSONStringBytes)
    /// An array (its elements are not kept).
    case array
    /// An object (its members are not kept).
    case object

    /// The kind of `value`: its scalar, or `.array` or `.object`.
    init(kindOf value: JSONValue) {
      switch value {
      case .null: self = .null
      case .bool(let b): self = .bool(b)
      case .number(let n): self = .number(n)
      // Only the kind of a value that is not a member's is kept: no bytes.
      case .string: self = .string(JSONStringBytes(start: 0, count: 0, escaped: false))
      case .array: self = .array
      case .object: self = .object
      }
    }
  }

  /// A member: its key and its value.
  package struct Member {
    var key: JSONStringBytes
    var value: Value
  }

  /// The members, in source order (no two with the same key).
  let members: UnsafeBufferPointer<Member>
  /// The input that was parsed.
  let input: UnsafePointer<UInt8>
  /// The bytes of the strings that had escapes, unescaped, one after the other.
  let decoded: [UInt8]

  /// Runs `body` with the bytes of `string`.
  @inline(__always)
  func withBytes<R>(_ string: JSONStringBytes, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    if !string.escaped { return try body(UnsafeBufferPointer(start: input + string.start, count: string.count)) }
    return try decoded.withUnsafeBufferPointer { all in
      try body(UnsafeBufferPointer(rebasing: all[string.start..<string.start + string.count]))
    }
  }

  /// `string` made into a `String`.
  func string(_ string: JSONStringBytes) -> String {
    withBytes(string) { String(decoding: $0, as: UTF8.self) }
  }
}

// MARK: - Implementation

/// The members of an object read in place, in memory that starts on the stack and moves to the
/// heap when it fills; heap memory is freed with the value.
private struct FlatMembers: ~Copyable {
  var base: UnsafeMutablePointer<JSONFlatObject.Member>
  var count = 0
  var capacity: Int
  var onHeap = false

  init(base: UnsafeMutablePointer<JSONFlatObject.Member>, capacity: Int) {
    self.base = base
    self.capacity = capacity
  }

  var buffer: UnsafeBufferPointer<JSONFlatObject.Member> { UnsafeBufferPointer(start: base, count: count) }

  mutating func append(_ member: JSONFlatObject.Member) {
    if count == capacity {
      let newBase = UnsafeMutablePointer<JSONFlatObject.Member>.allocate(capacity: capacity * 2)
      newBase.moveInitialize(from: base, count: count)
      if onHeap { base.deallocate() }
      base = newBase
      capacity *= 2
      onHeap = true
    }
    (base + count).initialize(to: member)
    count += 1
  }

  // Members are plain values: there is nothing to deinitialise, only heap memory to free.
  deinit {
    if onHeap { base.deallocate() }
  }
}

private enum ASCII {
  static let tab: UInt8 = 0x09
  static let newline: UInt8 = 0x0A
  static let carriageReturn: UInt8 = 0x0D
  static let space: UInt8 = 0x20
  static let quote: UInt8 = 0x22
  static let apostrophe: UInt8 = 0x27
  static let plus: UInt8 = 0x2B
  static let comma: UInt8 = 0x2C
  static let minus: UInt8 = 0x2D
  static let period: UInt8 = 0x2E
  static let slash: UInt8 = 0x2F
  static let zero: UInt8 = 0x30
  static let nine: UInt8 = 0x39
  static let colon: UInt8 = 0x3A
  static let upperE: UInt8 = 0x45
  static let upperI: UInt8 = 0x49
  static let upperN: UInt8 = 0x4E
  static let openBracket: UInt8 = 0x5B
  static let backslash: UInt8 = 0x5C
  static let closeBracket: UInt8 = 0x5D
  static let lowerE: UInt8 = 0x65
  static let lowerF: UInt8 = 0x66
  static let lowerN: UInt8 = 0x6E
  static let lowerT: UInt8 = 0x74
  static let lowerU: UInt8 = 0x75
  static let openBrace: UInt8 = 0x7B
  static let closeBrace: UInt8 = 0x7D
}

/// Exact powers of ten representable as `Double` (10^0 ... 10^22).
private let exactPowersOfTen: [Double] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct Parser {
  let base: UnsafePointer<UInt8>
  let count: Int
  var pos = 0
  /// Reused buffer for decoding strings that contain escapes.
  var scratch: [UInt8] = []

  init(base: UnsafePointer<UInt8>, count: Int) {
    self.base = base
    self.count = count
  }

  // MARK: Errors

  func error(_ message: String, at offset: Int) -> JSONParseError {
    JSONParseError(message: message, offset: offset)
  }

  /// An error for the byte at `pos` that does not fit the grammar. End of input, NUL bytes and
  /// invalid UTF-8 take precedence over `message`.
  func unexpected(_ message: String) -> JSONParseError {
    guard pos < count else { return error("unexpected end of input", at: count) }
    let byte = base[pos]
    if byte == 0 { return error("unexpected NUL byte", at: pos) }
    if byte >= 0x80 && invalidUTF8(from: pos, to: min(pos + 4, count)) == pos {
      return error("invalid UTF-8", at: pos)
    }
    return error(message, at: pos)
  }

  /// The offset of the first byte in `start..<end` that does not begin a valid UTF-8 sequence
  /// (as the standard library's decoder reads it), or `nil` when they are all valid.
  func invalidUTF8(from start: Int, to end: Int) -> Int? {
    var iterator = UnsafeBufferPointer(start: base + start, count: end - start).makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var offset = start
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let scalar): offset += scalar.count
      case .error: return offset
      case .emptyInput: return nil
      }
    }
  }

  /// `problem`, found in a string whose content starts at `start`, unless the bytes before
  /// `end` hold invalid UTF-8, which is then the first problem.
  func firstProblem(_ problem: JSONParseError, content start: Int, before end: Int) -> JSONParseError {
    invalidUTF8(from: start, to: end).map { error("invalid UTF-8", at: $0) } ?? problem
  }

  // MARK: Structure

  @inline(__always)
  mutating func skipWhitespace() {
    while pos < count {
      switch base[pos] {
      case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab:
        pos += 1
      default:
        return
      }
    }
  }

  /// Parses a value starting at `pos` (which is not whitespace). `depth` is the number of
  /// arrays and objects enclosing it.
  mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
    guard pos < count else { throw error("unexpected end of input", at: count) }
    switch base[pos] {
    case ASCII.quote:
      return .string(try parseString())
    case ASCII.minus, ASCII.zero...ASCII.nine:
      return .number(try parseNumber())
    case ASCII.openBrace, ASCII.openBracket:
      guard depth < JSONParser.maxDepth else {
        throw error("nesting deeper than \(JSONParser.maxDepth) levels", at: pos)
      }
      return base[pos] == ASCII.openBrace ? try parseObject(depth: depth + 1) : try parseArray(depth: depth + 1)
    case ASCII.lowerT:
      try parseLiteral("true")
      return .bool(true)
    case ASCII.lowerF:
      try parseLiteral("false")
      return .bool(false)
    case ASCII.lowerN:
      try parseLiteral("null")
      return .null
    case ASCII.slash:
      throw error("comments are not allowed", at: pos)
    case ASCII.apostrophe:
      throw error("strings must use double quotes", at: pos)
    case ASCII.plus:
      throw error("numbers must not start with '+'", at: pos)
    case ASCII.period:
      throw error("numbers must start with a digit", at: pos)
    case ASCII.upperN, ASCII.upperI:
      throw error("NaN and Infinity are not valid JSON", at: pos)
    case 0x41...0x5A, 0x61...0x7A:
      throw error("invalid literal (expected true, false or null)", at: pos)
    default:
      throw unexpected("expected a JSON value")
    }
  }

  mutating func parseLiteral(_ word: StaticString) throws(JSONParseError) {
    let start = pos
    for i in 0..<word.utf8CodeUnitCount {
      guard start + i < count else { throw error("unexpected end of input", at: count) }
      guard base[start + i] == word.utf8Start[i] else {
        throw error("invalid literal (expected true, false or null)", at: start)
      }
    }
    pos = start + word.utf8CodeUnitCount
  }

  /// After an element or member: skips to the next one (`true`) or past the closing `close`
  /// (`false`).
  mutating func next(close: UInt8, container: String, item: String) throws(JSONParseError) -> Bool {
    skipWhitespace()
    guard pos < count else { throw error("unexpected end of input", at: count) }
    switch base[pos] {
    case ASCII.comma:
      pos += 1
      skipWhitespace()
      if pos < count && base[pos] == close { throw error("trailing comma in \(container)", at: pos) }
      return true
    case close:
      pos += 1
      return false
    default:
      throw unexpected("expected ',' or '\(Character(Unicode.Scalar(close)))' after \(item)")
    }
  }

  mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
    pos += 1  // '['
    skipWhitespace()
    var elements: [JSONValue] = []
    if pos < count && base[pos] == ASCII.closeBracket {
      pos += 1
      return .array(elements)
    }
    repeat {
      elements.append(try parseValue(depth: depth))
    } while try next(close: ASCII.closeBracket, container: "array", item: "array element")
    return .array(elements)
  }

  mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
    pos += 1  // '{'
    skipWhitespace()
    var members: [(key: String, value: JSONValue)] = []
    if pos < count && base[pos] == ASCII.closeBrace {
      pos += 1
      return .object(members)
    }
    members.reserveCapacity(8)
    // The keys by their bytes, once the object is wide enough for a linear search to be slow.
    var keys: Set<[UInt8]> = []
    repeat {
      guard pos < count else { throw error("unexpected end of input", at: count) }
      guard base[pos] == ASCII.quote else {
        if base[pos] == ASCII.apostrophe { throw error("strings must use double quotes", at: pos) }
        throw unexpected("expected a string as object key")
      }
      let keyOffset = pos
      let key = try parseString()
      if members.count >= 16 && keys.isEmpty { keys = Set(members.map { Array($0.key.utf8) }) }
      let duplicate =
        keys.isEmpty
        ? members.contains { JSONValue.utf8Equal($0.key, key) } : !keys.insert(Array(key.utf8)).inserted
      if duplicate { throw error("duplicate key \(JSONWriter.quoted(key))", at: keyOffset) }
      skipWhitespace()
      guard pos < count, base[pos] == ASCII.colon else { throw unexpected("expected ':' after object key") }
      pos += 1
      skipWhitespace()
      members.append((key, try parseValue(depth: depth)))
    } while try next(close: ASCII.closeBrace, container: "object", item: "object member")
    return .object(members)
  }

  /// Parses an object at `pos` whose members are read in place into `members` (see
  /// ``JSONParser/withFlatObject(_:_:)``): the grammar and the checks of ``parseObject(depth:)``.
  mutating func parseFlatMembers(into members: inout FlatMembers) throws(JSONParseError) {
    pos += 1  // '{'
    skipWhitespace()
    if pos < count && base[pos] == ASCII.closeBrace {
      pos += 1
      return
    }
    // The keys by their bytes, once the object is wide enough for a linear search to be slow.
    var keys: Set<[UInt8]> = []
    repeat {
      guard pos < count else { throw error("unexpected end of input", at: count) }
      guard base[pos] == ASCII.quote else {
        if base[pos] == ASCII.apostrophe { throw error("strings must use double quotes", at: pos) }
        throw unexpected("expected a string as object key")
      }
      let keyOffset = pos
      let key = try readString()
      if members.count >= 16 && keys.isEmpty { keys = Set(members.buffer.map { withBytes($0.key) { Array($0) } }) }
      let duplicate =
        keys.isEmpty
        ? members.buffer.contains { sameBytes($0.key, key) } : !keys.insert(withBytes(key) { Array($0) }).inserted
      if duplicate {
        throw error(
          "duplicate key \(withBytes(key) { JSONWriter.quoted(String(decoding: $0, as: UTF8.self)) })", at: keyOffset)
      }
      skipWhitespace()
      guard pos < count, base[pos] == ASCII.colon else { throw unexpected("expected ':' after object key") }
      pos += 1
      skipWhitespace()
      members.append(JSONFlatObject.Member(key: key, value: try parseFlatValue()))
    } while try next(close: ASCII.closeBrace, container: "object", item: "object member")
  }

  /// Parses a member's value at `pos` for ``parseFlatMembers()``: a string in place (its bytes);
  /// anything else as ``parseValue(depth:)`` reads it inside an object, of which an array or an
  /// object keeps only its kind.
  mutating func parseFlatValue() throws(JSONParseError) -> JSONFlatObject.Value {
    guard pos < count else { throw error("unexpected end of input", at: count) }
    if base[pos] == ASCII.quote { return .string(try readString()) }
    return JSONFlatObject.Value(kindOf: try parseValue(depth: 1))
  }

  /// Runs `body` with the bytes of a string read by ``readString()``.
  @inline(__always)
  func withBytes<R>(_ string: JSONStringBytes, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if !string.escaped { return body(UnsafeBufferPointer(start: base + string.start, count: string.count)) }
    return scratch.withUnsafeBufferPointer { all in
      body(UnsafeBufferPointer(rebasing: all[string.start..<string.start + string.count]))
    }
  }

  /// Whether two strings read by ``readString()`` have the same bytes.
  func sameBytes(_ a: JSONStringBytes, _ b: JSONStringBytes) -> Bool {
    a.count == b.count
      && withBytes(a) { a in
        withBytes(b) { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
      }
  }

  // MARK: Strings

  /// Parses a string starting at the opening quote at `pos`.
  mutating func parseString() throws(JSONParseError) -> String {
    let string = try readString()
    let text = withBytes(string) { String(decoding: $0, as: UTF8.self) }
    // Its unescaped bytes are not needed any more (those before them may be: see `parseFlatValue`).
    if string.escaped { scratch.removeSubrange(string.start...) }
    return text
  }

  /// Reads a string starting at the opening quote at `pos`: its bytes are checked as UTF-8 (by
  /// the standard library's decoder; ASCII needs no check), and, when it has escapes, appended
  /// unescaped to `scratch`. A problem found before its end is reported after any invalid
  /// UTF-8 that precedes it.
  mutating func readString() throws(JSONParseError) -> JSONStringBytes {
    let quoteOffset = pos
    pos += 1
    let start = pos
    var run = start
    let scratchStart = scratch.count
    var escaped = false
    var firstNonASCII = -1
    skipPlainText(firstNonASCII: &firstNonASCII)
    while pos < count {
      let byte = base[pos]
      if byte == ASCII.quote {
        let end = pos
        pos += 1
        // Escapes are ASCII and unescape to whole scalars: the string is valid UTF-8 exactly
        // when its bytes in the input are.
        if firstNonASCII >= 0, let offset = invalidUTF8(from: firstNonASCII, to: end) {
          throw error("invalid UTF-8", at: offset)
        }
        if !escaped { return JSONStringBytes(start: start, count: end - start, escaped: false) }
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: end - run))
        return JSONStringBytes(start: scratchStart, count: scratch.count - scratchStart, escaped: true)
      }
      if byte == ASCII.backslash {
        escaped = true
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: pos - run))
        let escapeOffset = pos
        do throws(JSONParseError) {
          try parseEscape()
        } catch {
          throw firstProblem(error, content: start, before: escapeOffset)
        }
        run = pos
      } else if byte < 0x20 {
        throw firstProblem(controlCharacterError(), content: start, before: pos)
      } else {
        if byte >= 0x80 && firstNonASCII < 0 { firstNonASCII = pos }
        pos += 1
        skipPlainText(firstNonASCII: &firstNonASCII)
      }
    }
    throw firstProblem(error("unterminated string", at: quoteOffset), content: start, before: count)
  }

  /// Moves `pos` over string text that needs no attention (no quote, backslash or control
  /// character), eight bytes at a time, noting in `firstNonASCII` where the first byte that is
  /// not ASCII is, when there is one and it has not been noted.
  @inline(__always)
  mutating func skipPlainText(firstNonASCII: inout Int) {
    while pos &+ 8 <= count {
      let word = JSONBytes.word(base + pos)
      let attention = JSONBytes.attention(word)
      // The bytes before the first that needs attention.
      let plain = attention == 0 ? ~0 : (1 &<< UInt64(attention.trailingZeroBitCount &- 7)) &- 1
      let high = word & JSONBytes.highBits & plain
      if high != 0 && firstNonASCII < 0 { firstNonASCII = pos &+ high.trailingZeroBitCount &>> 3 }
      if attention != 0 {
        pos &+= attention.trailingZeroBitCount &>> 3
        return
      }
      pos &+= 8
    }
  }

  func controlCharacterError() -> JSONParseError {
    let byte = base[pos]
    if byte == 0 { return error("unexpected NUL byte", at: pos) }
    let hex = String(byte, radix: 16, uppercase: true)
    let code = hex.count == 1 ? "U+000\(hex)" : "U+00\(hex)"
    return error("unescaped control character \(code) in string", at: pos)
  }

  /// Decodes the escape sequence at `pos` (a backslash) into `scratch`.
  mutating func parseEscape() throws(JSONParseError) {
    let escapeOffset = pos
    guard pos + 1 < count else { throw error("unexpected end of input", at: count) }
    let byte = base[pos + 1]
    pos += 2
    switch byte {
    case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(byte)
    case 0x62: scratch.append(0x08)  // b
    case 0x66: scratch.append(0x0C)  // f
    case 0x6E: scratch.append(0x0A)  // n
    case 0x72: scratch.append(0x0D)  // r
    case 0x74: scratch.append(0x09)  // t
    case ASCII.lowerU:
      var scalar = try parseHex4(escapeOffset: escapeOffset)
      if scalar >= 0xD800 && scalar <= 0xDBFF {
        guard pos + 1 < count, base[pos] == ASCII.backslash, base[pos + 1] == ASCII.lowerU else {
          throw error("unpaired surrogate in \\u escape", at: escapeOffset)
        }
        let lowOffset = pos
        pos += 2
        let low = try parseHex4(escapeOffset: lowOffset)
        guard low >= 0xDC00 && low <= 0xDFFF else {
          throw error("unpaired surrogate in \\u escape", at: escapeOffset)
        }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
        throw error("unpaired surrogate in \\u escape", at: escapeOffset)
      }
      scratch.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar)!)!)
    default:
      if byte < 0x20 || byte >= 0x80 {
        throw error("invalid escape sequence", at: escapeOffset)
      }
      let character = Character(Unicode.Scalar(byte))
      throw error("invalid escape sequence '\\\(character)'", at: escapeOffset)
    }
  }

  /// Reads four hex digits at `pos`.
  mutating func parseHex4(escapeOffset: Int) throws(JSONParseError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard pos < count else { throw error("unexpected end of input", at: count) }
      guard let digit = Character(Unicode.Scalar(base[pos])).hexDigitValue else {
        throw error("invalid \\u escape (expected 4 hex digits)", at: escapeOffset)
      }
      value = value << 4 | UInt32(digit)
      pos += 1
    }
    return value
  }

  // MARK: Numbers

  @inline(__always)
  func isDigit(at offset: Int) -> Bool {
    offset < count && base[offset] &- ASCII.zero < 10
  }

  /// Parses a number at `pos`: validates the RFC 8259 grammar, converts exactly.
  mutating func parseNumber() throws(JSONParseError) -> Double {
    let start = pos
    var negative = false
    if base[pos] == ASCII.minus {
      negative = true
      pos += 1
      guard pos < count else { throw error("unexpected end of input", at: count) }
      if base[pos] == ASCII.upperI {
        throw error("NaN and Infinity are not valid JSON", at: start)
      }
      guard isDigit(at: pos) else { throw unexpected("expected a digit after '-'") }
    }

    // Significant digits accumulate into `mantissa` while they fit (at most 19 digits).
    var mantissa: UInt64 = 0
    var digitCount = 0
    var exponent10 = 0
    var exact = true  // false once digits were dropped

    if base[pos] == ASCII.zero {
      pos += 1
      if isDigit(at: pos) { throw error("leading zeros are not allowed", at: start) }
    } else {
      while isDigit(at: pos) {
        let digit = UInt64(base[pos] &- ASCII.zero)
        if digitCount < 19 {
          mantissa = mantissa &* 10 &+ digit
          if mantissa != 0 { digitCount += 1 }
        } else {
          exponent10 += 1
          exact = false
        }
        pos += 1
      }
    }

    if pos < count && base[pos] == ASCII.period {
      pos += 1
      guard isDigit(at: pos) else { throw unexpected("expected a digit after the decimal point") }
      while isDigit(at: pos) {
        let digit = UInt64(base[pos] &- ASCII.zero)
        if digitCount < 19 {
          mantissa = mantissa &* 10 &+ digit
          if mantissa != 0 { digitCount += 1 }
          exponent10 -= 1
        } else {
          exact = false
        }
        pos += 1
      }
    }

    if pos < count && (base[pos] == ASCII.lowerE || base[pos] == ASCII.upperE) {
      pos += 1
      var exponentNegative = false
      if pos < count && (base[pos] == ASCII.plus || base[pos] == ASCII.minus) {
        exponentNegative = base[pos] == ASCII.minus
        pos += 1
      }
      guard isDigit(at: pos) else { throw unexpected("expected a digit in the exponent") }
      var explicit = 0
      while isDigit(at: pos) {
        if explicit < 100_000 { explicit = explicit * 10 + Int(base[pos] &- ASCII.zero) }
        pos += 1
      }
      exponent10 += exponentNegative ? -explicit : explicit
    }

    // Exact fast path (Clinger): mantissa and 10^|e| are exact doubles, one rounding.
    if exact && mantissa <= 1 << 53 {
      var value = Double(mantissa)
      if exponent10 == 0 { return negative ? -value : value }
      if mantissa == 0 { return negative ? -0.0 : 0.0 }
      if exponent10 < 0 && exponent10 >= -22 {
        value /= exactPowersOfTen[-exponent10]
        return negative ? -value : value
      }
      if exponent10 > 0 && exponent10 <= 22 {
        value *= exactPowersOfTen[exponent10]
        return negative ? -value : value
      }
    }
    // Otherwise the standard library's conversion (correctly rounded, locale-independent) of
    // the text whose grammar is now validated.
    let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
    guard let value = Double(text), value.isFinite else {
      throw error(JSONParseError.numberTooLarge, at: start)
    }
    return value
  }
}
