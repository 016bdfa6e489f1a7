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
///   `9007199254740992.0`), which is always valid JSON for finite values. A non-finite number
///   has no JSON form: it is a programming error (an assertion in debug builds; `null` in
///   release builds), which the library never makes (see `NumberField`).
package enum JSONWriter {
  /// The canonical form of `value` as a string.
  package static func string(_ value: JSONValue, sortedKeys: Bool = true) -> String {
    Emitter.with { emitter in
      emitter.write(value, sortedKeys: sortedKeys)
      return String(decoding: emitter.buffer, as: UTF8.self)
    }
  }

  /// An object whose members `build` writes in the order it gives them, lent to `body` as UTF-8
  /// bytes that are valid only during `body`: no value is made.
  package static func object<Result>(
    _ build: (inout ObjectMembers) -> Void, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Emitter.stackCapacity) { stack in
      var members = ObjectMembers(emitter: Emitter(base: stack.baseAddress!, capacity: stack.count))
      members.emitter.appendByte(UInt8(ascii: "{"))
      build(&members)
      members.emitter.appendByte(UInt8(ascii: "}"))
      return try body(members.emitter.buffer)
    }
  }

  /// `s` as a JSON string literal, quotes included (`"a\"b"`).
  package static func quoted(_ s: String) -> String { string(.string(s)) }
}

/// The members of an object that ``JSONWriter/object(_:_:)`` writes, each in canonical form.
package struct ObjectMembers: ~Copyable {
  fileprivate var emitter: Emitter
  fileprivate var first = true

  /// Writes `key` (ASCII without characters to escape) and the colon.
  private mutating func key(_ key: StaticString) {
    emitter.reserve(key.utf8CodeUnitCount + 4)
    if !first { emitter.put(UInt8(ascii: ",")) }
    first = false
    emitter.put(UInt8(ascii: "\""))
    emitter.append(key)
    emitter.put(UInt8(ascii: "\""))
    emitter.put(UInt8(ascii: ":"))
  }

  package mutating func string(_ key: StaticString, _ value: String) {
    self.key(key)
    emitter.writeString(value)
  }

  package mutating func number(_ key: StaticString, _ value: Double) {
    self.key(key)
    emitter.writeNumber(value)
  }

  package mutating func bool(_ key: StaticString, _ value: Bool) {
    self.key(key)
    emitter.append(value ? "true" : "false")
  }
}

/// Writes the decimal digits of `value` (below 10^19) at `p`, left-padded with zeros to `width`,
/// and returns how many bytes it wrote.
@inline(__always)
func writeDecimal(_ value: UInt64, width: Int = 1, to p: UnsafeMutablePointer<UInt8>) -> Int {
  var length = 1
  var power: UInt64 = 10
  while length < 19 && value >= power {
    length += 1
    power &*= 10
  }
  length = max(length, width)
  var rest = value
  for i in stride(from: length - 1, through: 0, by: -1) {
    p[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
    rest /= 10
  }
  return length
}

// MARK: - Implementation

/// An append-only byte buffer that starts on the stack and moves to the heap when it fills (heap
/// memory is freed with the value). Writes reserve space first and then store through a raw pointer.
private struct Emitter: ~Copyable {
  var base: UnsafeMutablePointer<UInt8>
  var count = 0
  var capacity: Int
  var onHeap = false

  var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  deinit {
    if onHeap { base.deallocate() }
  }

  /// The bytes an emitter starts with on the stack.
  static var stackCapacity: Int { 1024 }

  /// Runs `body` with an emitter.
  static func with<R>(_ body: (inout Emitter) throws -> R) rethrows -> R {
    try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackCapacity) { stack in
      var emitter = Emitter(base: stack.baseAddress!, capacity: stack.count)
      return try body(&emitter)
    }
  }

  @inline(__always)
  mutating func reserve(_ n: Int) {
    if capacity - count < n { grow(n) }
  }

  mutating func grow(_ n: Int) {
    let newCapacity = max(capacity * 2, count + n)
    let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    newBase.initialize(from: base, count: count)
    if onHeap { base.deallocate() }
    base = newBase
    capacity = newCapacity
    onHeap = true
  }

  /// Stores one byte; space must have been reserved.
  @inline(__always)
  mutating func put(_ byte: UInt8) {
    base[count] = byte
    count += 1
  }

  @inline(__always)
  mutating func appendByte(_ byte: UInt8) {
    reserve(1)
    put(byte)
  }

  @inline(__always)
  mutating func append(_ ascii: StaticString) {
    append(UnsafeBufferPointer(start: ascii.utf8Start, count: ascii.utf8CodeUnitCount))
  }

  @inline(__always)
  mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
    reserve(bytes.count)
    (base + count).initialize(from: bytes.baseAddress!, count: bytes.count)
    count += bytes.count
  }

  mutating func write(_ value: JSONValue, sortedKeys: Bool) {
    switch value {
    case .null: append("null")
    case .bool(let b): append(b ? "true" : "false")
    case .number(let d): writeNumber(d)
    case .string(let s): writeString(s)
    case .array(let elements):
      appendByte(UInt8(ascii: "["))
      for (i, element) in elements.enumerated() {
        if i > 0 { appendByte(UInt8(ascii: ",")) }
        write(element, sortedKeys: sortedKeys)
      }
      appendByte(UInt8(ascii: "]"))
    case .object(var members):
      if sortedKeys {
        members = members.enumerated().sorted { a, b in
          let c = JSONValue.compareUTF8(a.element.key, b.element.key)
          return c == 0 ? a.offset < b.offset : c < 0
        }.map(\.element)
      }
      appendByte(UInt8(ascii: "{"))
      for (i, member) in members.enumerated() {
        if i > 0 { appendByte(UInt8(ascii: ",")) }
        writeString(member.key)
        appendByte(UInt8(ascii: ":"))
        write(member.value, sortedKeys: sortedKeys)
      }
      appendByte(UInt8(ascii: "}"))
    }
  }

  /// Writes `s` as a JSON string literal with minimal escaping.
  mutating func writeString(_ s: String) {
    if s.utf8.withContiguousStorageIfAvailable({ writeString(utf8: $0) }) == nil {
      Array(s.utf8).withUnsafeBufferPointer { writeString(utf8: $0) }
    }
  }

  mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
    let n = utf8.count
    reserve(n * 6 + 2)  // worst case: every byte escaped as \u00xx
    put(UInt8(ascii: "\""))
    guard let source = utf8.baseAddress else { return put(UInt8(ascii: "\"")) }
    var runStart = 0
    var i = 0
    while i < n {
      i = Self.skipUnescaped(source, from: i, count: n)
      guard i < n else { break }
      let byte = source[i]
      i += 1
      if byte >= 0x20 && byte != 0x22 && byte != 0x5C { continue }
      append(UnsafeBufferPointer(start: source + runStart, count: i - 1 - runStart))
      runStart = i
      put(UInt8(ascii: "\\"))
      switch byte {
      case 0x22, 0x5C: put(byte)
      case 0x08: put(UInt8(ascii: "b"))
      case 0x0C: put(UInt8(ascii: "f"))
      case 0x0A: put(UInt8(ascii: "n"))
      case 0x0D: put(UInt8(ascii: "r"))
      case 0x09: put(UInt8(ascii: "t"))
      default:
        let hexDigits: StaticString = "0123456789abcdef"
        append("u00")
        put(hexDigits.utf8Start[Int(byte >> 4)])
        put(hexDigits.utf8Start[Int(byte & 0x0F)])
      }
    }
    append(UnsafeBufferPointer(start: source + runStart, count: n - runStart))
    put(UInt8(ascii: "\""))
  }

  /// The index of the first byte at or after `i` that needs an escape (below 0x20, `"` or `\`),
  /// or of the start of the tail shorter than 8 bytes.
  @inline(__always)
  static func skipUnescaped(_ p: UnsafePointer<UInt8>, from i: Int, count n: Int) -> Int {
    var i = i
    while i &+ 8 <= n {
      let attention = JSONBytes.attention(JSONBytes.word(p + i))
      if attention != 0 { return i &+ attention.trailingZeroBitCount &>> 3 }
      i &+= 8
    }
    return i
  }

  /// Writes `d` in canonical number form (see `JSONWriter`).
  mutating func writeNumber(_ d: Double) {
    guard d.isFinite else {
      assertionFailure("JSON has no form for the number \(d)")
      return append("null")
    }
    if d.magnitude < 9_007_199_254_740_992.0, case let n = Int64(d), Double(n) == d {
      reserve(17)  // sign and up to 16 digits
      if n < 0 { put(UInt8(ascii: "-")) }
      count += writeDecimal(n.magnitude, to: base + count)
    } else {
      var text = d.description
      text.withUTF8 { append($0) }
    }
  }
}
