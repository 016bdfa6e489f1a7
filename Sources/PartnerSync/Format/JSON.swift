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
  @inline(__always)
  static func utf8Equal(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && compareUTF8(a, b) == 0
  }

  /// Byte-wise ordering of two strings, as used for canonical key order.
  @inline(__always)
  static func utf8Less(_ a: String, _ b: String) -> Bool {
    compareUTF8(a, b) < 0
  }

  /// Compares the UTF-8 bytes of two strings: negative, zero or positive.
  static func compareUTF8(_ a: String, _ b: String) -> Int {
    let result = a.utf8.withContiguousStorageIfAvailable { pa in
      b.utf8.withContiguousStorageIfAvailable { pb in compareBytes(pa, pb) }
    }
    if let result, let result { return result }
    // Non-contiguous (bridged) strings.
    if a.utf8.elementsEqual(b.utf8) { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
  }

  @inline(__always)
  static func compareBytes(
    _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>
  ) -> Int {
    let n = min(a.count, b.count)
    var i = 0
    while i < n {
      if a[i] != b[i] { return Int(a[i]) - Int(b[i]) }
      i += 1
    }
    return a.count - b.count
  }

  static func membersEqual(
    _ a: [(key: String, value: JSONValue)],
    _ b: [(key: String, value: JSONValue)]
  ) -> Bool {
    guard a.count == b.count else { return false }
    var sameOrder = true
    for i in a.indices {
      guard utf8Equal(a[i].key, b[i].key) else {
        sameOrder = false
        break
      }
      if a[i].value != b[i].value { return false }
    }
    if sameOrder { return true }
    // Different member order: compare after a stable sort by key bytes.
    let sa = a.sorted { utf8Less($0.key, $1.key) }
    let sb = b.sorted { utf8Less($0.key, $1.key) }
    for i in sa.indices {
      guard utf8Equal(sa[i].key, sb[i].key), sa[i].value == sb[i].value else { return false }
    }
    return true
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
struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A short, lowercase description of the problem, e.g. "expected ':' after object key".
  var message: String
  /// The 0-based byte offset in the input where the problem was found.
  var offset: Int

  var description: String { "\(message) (at byte \(offset))" }

  /// The message of a number too large for a `Double` (its offset is the number's first byte).
  static let numberTooLarge = "number is too large"

  /// Whether this is a number too large for a `Double`, starting at `offset`.
  var isNumberTooLarge: Bool { message == Self.numberTooLarge }
}

/// A strict RFC 8259 JSON parser.
///
/// Rejects trailing commas, comments, `NaN`/`Infinity`, leading zeros, unescaped control
/// characters, invalid escapes and lone surrogates, invalid UTF-8, NUL bytes outside escapes,
/// duplicate object keys (compared byte-wise after unescaping), numbers too large for a
/// `Double`, nesting deeper than `maxDepth`, and anything after the value other than
/// whitespace. Numbers that underflow become zero or subnormal (as with `strtod`). The escape
/// `\u0000` is valid JSON and is accepted.
enum JSONParser {
  /// The deepest nesting of arrays and objects accepted.
  static let maxDepth = 64

  /// Parses exactly one JSON value spanning the whole input (surrounding whitespace allowed).
  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      throw JSONParseError(message: "unexpected end of input", offset: 0)
    }
    // The parser's work stacks start in stack memory (each under 1 KiB) and move to the heap
    // only for unusually wide or deep documents.
    return try withUnsafeTemporaryAllocation(of: JSONValue.self, capacity: 32) {
      (elements) throws(JSONParseError) -> JSONValue in
      try withUnsafeTemporaryAllocation(of: (key: String, value: JSONValue).self, capacity: 24) {
        (members) throws(JSONParseError) -> JSONValue in
        try withUnsafeTemporaryAllocation(of: (start: Int, count: Int).self, capacity: 24) {
          (spans) throws(JSONParseError) -> JSONValue in
          try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) {
            (scratch) throws(JSONParseError) -> JSONValue in
            var parser = Parser(
              base: base, count: bytes.count, elements: elements, members: members, spans: spans,
              scratch: scratch)
            defer { parser.releaseStacks() }
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.pos != parser.count {
              throw parser.unexpected("trailing characters after the JSON value")
            }
            return value
          }
        }
      }
    }
  }

  /// The number that `bytes` holds, read exactly as ``parse(_:)`` reads it, or `nil` when `bytes`
  /// is anything but one valid number (surrounding whitespace included): the parser's own
  /// conversion, without the work stacks that values other than numbers need.
  static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
    guard let base = bytes.baseAddress, let first = bytes.first,
      first == ASCII.minus || first &- ASCII.zero < 10
    else { return nil }
    return withUnsafeTemporaryAllocation(of: JSONValue.self, capacity: 1) { elements in
      withUnsafeTemporaryAllocation(of: (key: String, value: JSONValue).self, capacity: 1) { members in
        withUnsafeTemporaryAllocation(of: (start: Int, count: Int).self, capacity: 1) { spans in
          withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { scratch in
            // A number pushes nothing on the stacks: the parser needs them only to exist.
            var parser = Parser(
              base: base, count: bytes.count, elements: elements, members: members, spans: spans,
              scratch: scratch)
            defer { parser.releaseStacks() }
            guard let value = try? parser.parseNumber(), parser.pos == parser.count else { return nil }
            return value
          }
        }
      }
    }
  }

  /// Parses exactly one JSON value spanning the whole string (surrounding whitespace allowed).
  static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    let result = text.utf8.withContiguousStorageIfAvailable { buffer in
      Result { () throws(JSONParseError) -> JSONValue in try parse(buffer) }
    }
    if let result { return try result.get() }
    return try parse(Array(text.utf8))  // non-contiguous (bridged) strings
  }

  /// Parses exactly one JSON value spanning the whole byte array (surrounding whitespace allowed).
  static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    let result = bytes.withUnsafeBufferPointer { buffer in
      Result { () throws(JSONParseError) -> JSONValue in try parse(buffer) }
    }
    return try result.get()
  }
}

// MARK: - Implementation

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

/// Wraps a key so that a `Set` compares and hashes it by UTF-8 bytes.
private struct ByteKey: Hashable {
  let string: String

  static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
    JSONValue.utf8Equal(lhs.string, rhs.string)
  }

  func hash(into hasher: inout Hasher) {
    let done: Void? = string.utf8.withContiguousStorageIfAvailable {
      hasher.combine(bytes: UnsafeRawBufferPointer($0))
    }
    if done == nil {
      for byte in string.utf8 { hasher.combine(byte) }
    }
  }
}

/// A stack of values in caller-provided memory that moves to the heap when it fills up.
/// `release()` must be called exactly once when done.
private struct UnsafeStack<Element> {
  var base: UnsafeMutablePointer<Element>
  var count = 0
  var capacity: Int
  var onHeap = false

  init(storage: UnsafeMutableBufferPointer<Element>) {
    base = storage.baseAddress!
    capacity = storage.count
  }

  @inline(__always)
  mutating func push(_ element: Element) {
    if count == capacity { grow() }
    (base + count).initialize(to: element)
    count += 1
  }

  /// Appends `n` elements copied from `source`.
  mutating func push(contentsOf source: UnsafePointer<Element>, count n: Int) {
    while capacity - count < n { grow() }
    (base + count).initialize(from: source, count: n)
    count += n
  }

  mutating func grow() {
    let newCapacity = capacity * 2
    let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
    newBase.moveInitialize(from: base, count: count)
    if onHeap { base.deallocate() }
    base = newBase
    capacity = newCapacity
    onHeap = true
  }

  /// Moves the elements from `start` on into a new, exactly sized array and pops them.
  mutating func popArray(from start: Int) -> [Element] {
    let n = count - start
    if n == 0 { return [] }
    // reserveCapacity + append is fully specialised; `init(unsafeUninitializedCapacity:)`
    // looks up generic metadata at run time on every call.
    var result: [Element] = []
    result.reserveCapacity(n)
    for i in start..<count {
      result.append((base + i).move())
    }
    count = start
    return result
  }

  /// Drops `n` elements from the top.
  mutating func pop(_ n: Int) {
    count -= n
    (base + count).deinitialize(count: n)
  }

  mutating func release() {
    base.deinitialize(count: count)
    count = 0
    if onHeap { base.deallocate() }
  }
}

private struct Parser {
  let base: UnsafePointer<UInt8>
  let count: Int
  var pos = 0
  /// Reused buffer for decoding strings that contain escapes.
  var scratch: UnsafeStack<UInt8>
  /// Whether the last string parsed contained escapes.
  var lastStringHadEscapes = false
  /// Elements of the arrays being parsed, innermost last; moved out when an array closes.
  var elementStack: UnsafeStack<JSONValue>
  /// Members of the objects being parsed, innermost last; moved out when an object closes.
  var memberStack: UnsafeStack<(key: String, value: JSONValue)>
  /// Raw input spans of the keys in `memberStack` (`count == -1` if the key had escapes).
  var keySpans: UnsafeStack<(start: Int, count: Int)>

  init(
    base: UnsafePointer<UInt8>,
    count: Int,
    elements: UnsafeMutableBufferPointer<JSONValue>,
    members: UnsafeMutableBufferPointer<(key: String, value: JSONValue)>,
    spans: UnsafeMutableBufferPointer<(start: Int, count: Int)>,
    scratch: UnsafeMutableBufferPointer<UInt8>
  ) {
    self.base = base
    self.count = count
    elementStack = UnsafeStack(storage: elements)
    memberStack = UnsafeStack(storage: members)
    keySpans = UnsafeStack(storage: spans)
    self.scratch = UnsafeStack(storage: scratch)
  }

  mutating func releaseStacks() {
    elementStack.release()
    memberStack.release()
    keySpans.release()
    scratch.release()
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
    if byte >= 0x80 && utf8SequenceLength(at: pos) == nil {
      return error("invalid UTF-8", at: pos)
    }
    return error(message, at: pos)
  }

  /// The length of the valid UTF-8 multi-byte sequence starting at `offset`, or `nil`.
  func utf8SequenceLength(at offset: Int) -> Int? {
    let lead = base[offset]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF:
      length = 2
    case 0xE0:
      length = 3
      low = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF:
      length = 3
    case 0xED:
      length = 3
      high = 0x9F
    case 0xF0:
      length = 4
      low = 0x90
    case 0xF1...0xF3:
      length = 4
    case 0xF4:
      length = 4
      high = 0x8F
    default:
      return nil
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
    case ASCII.openBrace:
      guard depth < JSONParser.maxDepth else {
        throw error("nesting deeper than \(JSONParser.maxDepth) levels", at: pos)
      }
      return try parseObject(depth: depth + 1)
    case ASCII.openBracket:
      guard depth < JSONParser.maxDepth else {
        throw error("nesting deeper than \(JSONParser.maxDepth) levels", at: pos)
      }
      return try parseArray(depth: depth + 1)
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
    let length = word.utf8CodeUnitCount
    let expected = word.utf8Start
    var i = 0
    while i < length {
      guard start + i < count else { throw error("unexpected end of input", at: count) }
      guard base[start + i] == expected[i] else {
        throw error("invalid literal (expected true, false or null)", at: start)
      }
      i += 1
    }
    pos = start + length
  }

  mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
    pos += 1  // '['
    skipWhitespace()
    if pos < count && base[pos] == ASCII.closeBracket {
      pos += 1
      return .array([])
    }
    let stackBase = elementStack.count
    while true {
      let element = try parseValue(depth: depth)
      elementStack.push(element)
      skipWhitespace()
      guard pos < count else { throw error("unexpected end of input", at: count) }
      switch base[pos] {
      case ASCII.comma:
        pos += 1
        skipWhitespace()
        if pos < count && base[pos] == ASCII.closeBracket {
          throw error("trailing comma in array", at: pos)
        }
      case ASCII.closeBracket:
        pos += 1
        return .array(elementStack.popArray(from: stackBase))
      default:
        throw unexpected("expected ',' or ']' after array element")
      }
    }
  }

  mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
    pos += 1  // '{'
    skipWhitespace()
    if pos < count && base[pos] == ASCII.closeBrace {
      pos += 1
      return .object([])
    }
    let stackBase = memberStack.count
    var seen: Set<ByteKey>? = nil
    while true {
      guard pos < count else { throw error("unexpected end of input", at: count) }
      guard base[pos] == ASCII.quote else {
        if base[pos] == ASCII.apostrophe {
          throw error("strings must use double quotes", at: pos)
        }
        throw unexpected("expected a string as object key")
      }
      let keyOffset = pos
      let key = try parseString()
      let span = (start: keyOffset + 1, count: lastStringHadEscapes ? -1 : pos - keyOffset - 2)
      if isDuplicate(key, span: span, stackBase: stackBase, seen: &seen) {
        throw error("duplicate key \(JSONWriter.quoted(key))", at: keyOffset)
      }
      skipWhitespace()
      guard pos < count, base[pos] == ASCII.colon else {
        throw unexpected("expected ':' after object key")
      }
      pos += 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      memberStack.push((key: key, value: value))
      keySpans.push(span)
      skipWhitespace()
      guard pos < count else { throw error("unexpected end of input", at: count) }
      switch base[pos] {
      case ASCII.comma:
        pos += 1
        skipWhitespace()
        if pos < count && base[pos] == ASCII.closeBrace {
          throw error("trailing comma in object", at: pos)
        }
      case ASCII.closeBrace:
        pos += 1
        keySpans.pop(keySpans.count - stackBase)
        return .object(memberStack.popArray(from: stackBase))
      default:
        throw unexpected("expected ',' or '}' after object member")
      }
    }
  }

  /// Whether `key` already occurs in the object whose members start at `stackBase`: a linear
  /// scan comparing raw input bytes for small objects, a byte-keyed set for large ones.
  func isDuplicate(
    _ key: String,
    span: (start: Int, count: Int),
    stackBase: Int,
    seen: inout Set<ByteKey>?
  ) -> Bool {
    let memberCount = memberStack.count - stackBase
    if memberCount < 16 {
      for i in stackBase..<memberStack.count {
        let other = keySpans.base[i]
        if span.count >= 0 && other.count >= 0 {
          if span.count == other.count
            && bytesEqual(base + span.start, base + other.start, count: span.count)
          {
            return true
          }
        } else if JSONValue.utf8Equal(memberStack.base[i].key, key) {
          return true
        }
      }
      return false
    }
    if seen == nil {
      var set = Set<ByteKey>(minimumCapacity: memberCount * 2)
      for i in stackBase..<memberStack.count {
        set.insert(ByteKey(string: memberStack.base[i].key))
      }
      seen = set
    }
    return !seen!.insert(ByteKey(string: key)).inserted
  }

  @inline(__always)
  func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
    var i = 0
    while i < count {
      if a[i] != b[i] { return false }
      i += 1
    }
    return true
  }

  // MARK: Strings

  /// Parses a string starting at the opening quote at `pos`.
  mutating func parseString() throws(JSONParseError) -> String {
    let quoteOffset = pos
    pos += 1
    let start = pos
    while true {
      skipPlainBytes()
      guard pos < count else { break }
      let byte = base[pos]
      if byte == ASCII.quote {
        let s = String(
          decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
        pos += 1
        lastStringHadEscapes = false
        return s
      }
      if byte == ASCII.backslash {
        lastStringHadEscapes = true
        return try parseEscapedString(quoteOffset: quoteOffset, start: start)
      }
      if byte < 0x20 {
        throw controlCharacterError()
      }
      if byte < 0x80 {
        pos += 1
      } else {
        guard let length = utf8SequenceLength(at: pos) else {
          throw error("invalid UTF-8", at: pos)
        }
        pos += length
      }
    }
    throw error("unterminated string", at: quoteOffset)
  }

  /// Skips string content that needs no attention (printable ASCII other than quote and
  /// backslash) in 8-byte blocks, stopping at the first byte that does or at the last partial
  /// block.
  @inline(__always)
  mutating func skipPlainBytes() {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highBits: UInt64 = 0x8080_8080_8080_8080
    while pos &+ 8 <= count {
      let word = UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
      let quotes = word ^ (ones &* UInt64(ASCII.quote))
      let backslashes = word ^ (ones &* UInt64(ASCII.backslash))
      // A lane's high bit marks a byte below 0x20, a quote, a backslash or a non-ASCII byte.
      let controlHits = word &- ones &* 0x20
      let quoteHits = (quotes &- ones) & ~quotes
      let backslashHits = (backslashes &- ones) & ~backslashes
      let attention = (controlHits | quoteHits | backslashHits | word) & highBits
      // The lowest flagged lane is exact (false positives only occur above a real hit).
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

  /// Slow path once a backslash has been seen at `pos`; bytes from `start` are plain.
  mutating func parseEscapedString(
    quoteOffset: Int, start: Int
  ) throws(JSONParseError) -> String {
    scratch.count = 0
    scratch.push(contentsOf: base + start, count: pos - start)
    var runStart = pos
    while pos < count {
      let byte = base[pos]
      if byte == ASCII.quote {
        scratch.push(contentsOf: base + runStart, count: pos - runStart)
        pos += 1
        return String(
          decoding: UnsafeBufferPointer(start: scratch.base, count: scratch.count), as: UTF8.self)
      }
      if byte == ASCII.backslash {
        scratch.push(contentsOf: base + runStart, count: pos - runStart)
        try parseEscape()
        runStart = pos
        continue
      }
      if byte < 0x20 {
        throw controlCharacterError()
      }
      if byte < 0x80 {
        pos += 1
      } else {
        guard let length = utf8SequenceLength(at: pos) else {
          throw error("invalid UTF-8", at: pos)
        }
        pos += length
      }
    }
    throw error("unterminated string", at: quoteOffset)
  }

  /// Decodes the escape sequence at `pos` (a backslash) into `scratch`.
  mutating func parseEscape() throws(JSONParseError) {
    let escapeOffset = pos
    guard pos + 1 < count else { throw error("unexpected end of input", at: count) }
    let byte = base[pos + 1]
    pos += 2
    switch byte {
    case ASCII.quote: scratch.push(ASCII.quote)
    case ASCII.backslash: scratch.push(ASCII.backslash)
    case ASCII.slash: scratch.push(ASCII.slash)
    case 0x62: scratch.push(0x08)  // b
    case 0x66: scratch.push(0x0C)  // f
    case 0x6E: scratch.push(0x0A)  // n
    case 0x72: scratch.push(0x0D)  // r
    case 0x74: scratch.push(0x09)  // t
    case ASCII.lowerU:
      var scalar = try parseHex4(escapeOffset: escapeOffset)
      if scalar >= 0xD800 && scalar <= 0xDBFF {
        guard pos + 1 < count, base[pos] == ASCII.backslash, base[pos + 1] == ASCII.lowerU
        else {
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
      appendUTF8(scalar)
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
      let byte = base[pos]
      let digit: UInt8
      switch byte {
      case 0x30...0x39: digit = byte &- 0x30
      case 0x41...0x46: digit = byte &- 0x41 &+ 10
      case 0x61...0x66: digit = byte &- 0x61 &+ 10
      default:
        throw error("invalid \\u escape (expected 4 hex digits)", at: escapeOffset)
      }
      value = value << 4 | UInt32(digit)
      pos += 1
    }
    return value
  }

  mutating func appendUTF8(_ scalar: UInt32) {
    switch scalar {
    case 0..<0x80:
      scratch.push(UInt8(scalar))
    case 0x80..<0x800:
      scratch.push(UInt8(0xC0 | scalar >> 6))
      scratch.push(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
      scratch.push(UInt8(0xE0 | scalar >> 12))
      scratch.push(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.push(UInt8(0x80 | scalar & 0x3F))
    default:
      scratch.push(UInt8(0xF0 | scalar >> 18))
      scratch.push(UInt8(0x80 | scalar >> 12 & 0x3F))
      scratch.push(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.push(UInt8(0x80 | scalar & 0x3F))
    }
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
    return try slowNumber(start: start)
  }

  func slowNumber(start: Int) throws(JSONParseError) -> Double {
    // The grammar is already validated; the standard library's conversion is correctly rounded
    // and locale-independent.
    let text = String(
      decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
    guard let value = Double(text), value.isFinite else {
      throw error(JSONParseError.numberTooLarge, at: start)
    }
    return value
  }
}
