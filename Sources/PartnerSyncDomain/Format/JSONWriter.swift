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
package struct JSONWriter {
  /// The UTF-8 output so far.
  package var bytes: [UInt8]

  /// Creates an empty writer, optionally reserving space for `capacity` bytes.
  package init(reservingCapacity capacity: Int = 0) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  /// Appends the canonical form of `value` to `bytes`.
  package mutating func write(_ value: JSONValue, sortedKeys: Bool) {
    Emitter.with { emitter in
      emitter.write(value, sortedKeys: sortedKeys)
      bytes.append(contentsOf: emitter.buffer)
    }
  }

  /// The canonical form of `value` as a string.
  package static func string(_ value: JSONValue, sortedKeys: Bool = true) -> String {
    Emitter.with { emitter in
      emitter.write(value, sortedKeys: sortedKeys)
      return String(decoding: emitter.buffer, as: UTF8.self)
    }
  }

  /// The canonical form of `value` as UTF-8 bytes.
  package static func encode(_ value: JSONValue, sortedKeys: Bool = true) -> [UInt8] {
    Emitter.with { emitter in
      emitter.write(value, sortedKeys: sortedKeys)
      return Array(emitter.buffer)
    }
  }

  /// The canonical form of `value`, lent to `body` as UTF-8 bytes that are valid only during
  /// `body`: no string is made.
  package static func withEncoded<Result>(
    _ value: JSONValue, sortedKeys: Bool = true, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try Emitter.with { emitter in
      emitter.write(value, sortedKeys: sortedKeys)
      return try body(emitter.buffer)
    }
  }

  /// An object whose members `build` writes in the order it gives them, lent to `body` as UTF-8
  /// bytes that are valid only during `body`: no value is made.
  package static func object<Result>(
    _ build: (inout ObjectMembers) -> Void, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
  ) rethrows -> Result {
    try Emitter.with { emitter in
      var members = ObjectMembers(emitter: emitter)
      members.emitter.reserve(1)
      members.emitter.put(UInt8(ascii: "{"))
      build(&members)
      members.emitter.reserve(1)
      members.emitter.put(UInt8(ascii: "}"))
      emitter = members.emitter
      return try body(emitter.buffer)
    }
  }

  /// `s` as a JSON string literal, quotes included (`"a\"b"`).
  package static func quoted(_ s: String) -> String {
    Emitter.with { emitter in
      emitter.writeString(s)
      return String(decoding: emitter.buffer, as: UTF8.self)
    }
  }
}

/// The members of an object that ``JSONWriter/object(_:_:)`` writes, each in canonical form.
package struct ObjectMembers {
  fileprivate var emitter: Emitter
  private var first = true

  fileprivate init(emitter: Emitter) {
    self.emitter = emitter
  }

  /// Writes `key` (ASCII without characters to escape) and the colon.
  private mutating func key(_ key: StaticString) {
    emitter.reserve(key.utf8CodeUnitCount + 4)
    if !first { emitter.put(UInt8(ascii: ",")) }
    first = false
    emitter.put(UInt8(ascii: "\""))
    emitter.append(key)
    emitter.reserve(2)
    emitter.put(UInt8(ascii: "\""))
    emitter.put(UInt8(ascii: ":"))
  }

  /// A string member.
  package mutating func string(_ key: StaticString, _ value: String) {
    self.key(key)
    emitter.writeString(value)
  }

  /// A number member.
  package mutating func number(_ key: StaticString, _ value: Double) {
    self.key(key)
    emitter.writeNumber(value)
  }

  /// A Boolean member.
  package mutating func bool(_ key: StaticString, _ value: Bool) {
    self.key(key)
    emitter.append(value ? "true" : "false")
  }
}

// MARK: - Implementation

/// An append-only byte buffer that starts on the stack and moves to the heap when it fills.
/// Writes reserve space first and then store through a raw pointer.
private struct Emitter {
  var base: UnsafeMutablePointer<UInt8>
  var count = 0
  var capacity: Int
  var onHeap = false

  var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

  /// Runs `body` with an emitter whose memory is released afterwards.
  package static func with<R>(_ body: (inout Emitter) throws -> R) rethrows -> R {
    try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { stack in
      var emitter = Emitter(base: stack.baseAddress!, capacity: stack.count)
      defer { if emitter.onHeap { emitter.base.deallocate() } }
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
  mutating func append(_ ascii: StaticString) {
    let n = ascii.utf8CodeUnitCount
    reserve(n)
    (base + count).initialize(from: ascii.utf8Start, count: n)
    count += n
  }

  package mutating func write(_ value: JSONValue, sortedKeys: Bool) {
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
      reserve(1)
      put(UInt8(ascii: "["))
      var first = true
      for element in elements {
        if !first {
          reserve(1)
          put(UInt8(ascii: ","))
        }
        first = false
        write(element, sortedKeys: sortedKeys)
      }
      reserve(1)
      put(UInt8(ascii: "]"))
    case .object(let members):
      reserve(1)
      put(UInt8(ascii: "{"))
      if sortedKeys && !Self.isSorted(members) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: members.count) { storage in
          var order = storage
          for i in 0..<members.count { order.initializeElement(at: i, to: i) }
          order.sort { i, j in
            let c = JSONValue.compareUTF8(members[i].key, members[j].key)
            return c == 0 ? i < j : c < 0
          }
          for (n, i) in order.enumerated() {
            writeMember(members[i], first: n == 0, sortedKeys: sortedKeys)
          }
        }
      } else {
        var first = true
        for member in members {
          writeMember(member, first: first, sortedKeys: sortedKeys)
          first = false
        }
      }
      reserve(1)
      put(UInt8(ascii: "}"))
    }
  }

  @inline(__always)
  package mutating func writeMember(
    _ member: (key: String, value: JSONValue), first: Bool, sortedKeys: Bool
  ) {
    if !first {
      reserve(1)
      put(UInt8(ascii: ","))
    }
    writeString(member.key)
    reserve(1)
    put(UInt8(ascii: ":"))
    write(member.value, sortedKeys: sortedKeys)
  }

  package static func isSorted(_ members: [(key: String, value: JSONValue)]) -> Bool {
    var i = 1
    while i < members.count {
      if JSONValue.compareUTF8(members[i - 1].key, members[i].key) > 0 { return false }
      i += 1
    }
    return true
  }

  /// Writes `s` as a JSON string literal with minimal escaping.
  package mutating func writeString(_ s: String) {
    let done: Void? = s.utf8.withContiguousStorageIfAvailable { writeString(utf8: $0) }
    if done == nil {
      let bytes = Array(s.utf8)
      bytes.withUnsafeBufferPointer { writeString(utf8: $0) }
    }
  }

  package mutating func writeString(utf8: UnsafeBufferPointer<UInt8>) {
    let n = utf8.count
    reserve(n * 6 + 2)  // worst case: every byte escaped as \u00xx
    put(UInt8(ascii: "\""))
    let source = utf8.baseAddress!
    var runStart = 0
    var i = 0
    while i < n {
      i = Self.skipUnescaped(source, from: i, count: n)
      guard i < n else { break }
      let byte = source[i]
      if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
        i += 1
        continue
      }
      if runStart < i {
        (base + count).initialize(from: source + runStart, count: i - runStart)
        count += i - runStart
      }
      put(UInt8(ascii: "\\"))
      switch byte {
      case 0x22: put(UInt8(ascii: "\""))
      case 0x5C: put(UInt8(ascii: "\\"))
      case 0x08: put(UInt8(ascii: "b"))
      case 0x0C: put(UInt8(ascii: "f"))
      case 0x0A: put(UInt8(ascii: "n"))
      case 0x0D: put(UInt8(ascii: "r"))
      case 0x09: put(UInt8(ascii: "t"))
      default:
        let hexDigits: StaticString = "0123456789abcdef"
        put(UInt8(ascii: "u"))
        put(UInt8(ascii: "0"))
        put(UInt8(ascii: "0"))
        put(hexDigits.utf8Start[Int(byte >> 4)])
        put(hexDigits.utf8Start[Int(byte & 0x0F)])
      }
      i += 1
      runStart = i
    }
    if runStart < n {
      (base + count).initialize(from: source + runStart, count: n - runStart)
      count += n - runStart
    }
    put(UInt8(ascii: "\""))
  }

  /// The index of the first byte at or after `i` that needs an escape (below 0x20, `"` or `\`),
  /// or of the start of the tail shorter than 8 bytes.
  @inline(__always)
  package static func skipUnescaped(_ p: UnsafePointer<UInt8>, from i: Int, count n: Int) -> Int {
    var i = i
    while i &+ 8 <= n {
      let attention = JSONBytes.attention(JSONBytes.word(p + i))
      if attention != 0 { return i &+ attention.trailingZeroBitCount &>> 3 }
      i &+= 8
    }
    return i
  }

  /// Writes `d` in canonical number form (see `JSONWriter`).
  package mutating func writeNumber(_ d: Double) {
    guard d.isFinite else {
      // Every number the library writes is finite: the rules bound those of events
      // (`NumberField`), and what is made of them stays within a `Double`.
      assertionFailure("JSON has no form for the number \(d)")
      append("null")
      return
    }
    let twoTo53 = 9_007_199_254_740_992.0
    if d.magnitude < twoTo53, case let n = Int64(d), Double(n) == d {
      reserve(17)  // sign and up to 16 digits
      if n < 0 { put(UInt8(ascii: "-")) }
      var magnitude = n.magnitude
      var digits = 1
      var power: UInt64 = 10
      while digits < 16 && magnitude >= power {
        digits += 1
        power &*= 10
      }
      count += digits
      var p = base + count
      repeat {
        p -= 1
        p.pointee = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
        magnitude /= 10
      } while magnitude > 0
      return
    }
    let text = d.description
    let n = text.utf8.count
    reserve(n)
    for byte in text.utf8 { put(byte) }
  }
}
