@testable import PartnerSync
@testable import PartnerSyncDomain

/// Random JSON values covering every case, awkward strings and awkward numbers.
enum RandomJSON {
  static func value(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
    let kinds = depth >= 4 ? 4 : 6
    switch rng.below(kinds) {
    case 0:
      return .null
    case 1:
      return .bool(rng.below(2) == 0)
    case 2:
      return .number(number(&rng))
    case 3:
      return .string(string(&rng))
    case 4:
      return .array((0..<rng.below(6)).map { _ in value(&rng, depth: depth + 1) })
    default:
      var members: [(key: String, value: JSONValue)] = []
      var used: Set<[UInt8]> = []
      for _ in 0..<rng.below(6) {
        let key = string(&rng)
        guard used.insert(Array(key.utf8)).inserted else { continue }
        members.append((key: key, value: value(&rng, depth: depth + 1)))
      }
      return .object(members)
    }
  }

  static func number(_ rng: inout SplitMix64) -> Double {
    switch rng.below(8) {
    case 0:
      return Double(rng.below(2001) - 1000)
    case 1:
      return Double(Int64(bitPattern: rng.next()) >> 11)  // |n| < 2^53
    case 2:
      return Double(rng.below(2_000_001) - 1_000_000) / 1000
    case 3:
      while true {
        let d = Double(bitPattern: rng.next())
        if d.isFinite { return d }
      }
    case 4:
      return [0.0, -0.0, 0.1, 1e-7, .leastNonzeroMagnitude, 1e16, 0x1p53, 1.7976931348623157e308][
        rng.below(8)]
    case 5:
      return Double(bitPattern: rng.next() >> 12)  // subnormal or tiny
    case 6:
      let mantissa = Double(rng.below(1_000_000))
      let exponent = rng.below(60) - 30
      return Double("\(Int(mantissa))e\(exponent)")!
    default:
      return Double(rng.next() >> 1) * (rng.below(2) == 0 ? 1 : -1)
    }
  }

  static func string(_ rng: inout SplitMix64) -> String {
    var scalars = String.UnicodeScalarView()
    for _ in 0..<rng.below(13) {
      scalars.append(scalar(&rng))
    }
    return String(scalars)
  }

  static func scalar(_ rng: inout SplitMix64) -> Unicode.Scalar {
    let value: UInt32
    switch rng.below(8) {
    case 0: value = UInt32(rng.below(0x20))
    case 1: value = [0x22, 0x5C, 0x2F, 0x7F, 0x00][rng.below(5)]
    case 2: value = 0x80 + UInt32(rng.below(0x800 - 0x80))
    case 3:
      let v = 0x800 + UInt32(rng.below(0x10000 - 0x800))
      value = (0xD800...0xDFFF).contains(v) ? 0xE9 : v
    case 4: value = 0x10000 + UInt32(rng.below(0x110000 - 0x10000))
    default: value = 0x20 + UInt32(rng.below(0x5F))
    }
    return Unicode.Scalar(value)!
  }
}

/// Order-sensitive, byte-exact structural comparison (numbers compare with `==`).
func identicalJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
  switch (a, b) {
  case (.null, .null): return true
  case (.bool(let x), .bool(let y)): return x == y
  case (.number(let x), .number(let y)): return x == y
  case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
  case (.array(let x), .array(let y)):
    return x.count == y.count && zip(x, y).allSatisfy { identicalJSON($0, $1) }
  case (.object(let x), .object(let y)):
    return x.count == y.count
      && zip(x, y).allSatisfy {
        Array($0.key.utf8) == Array($1.key.utf8) && identicalJSON($0.value, $1.value)
      }
  default: return false
  }
}
