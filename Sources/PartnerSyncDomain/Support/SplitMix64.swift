/// The SplitMix64 generator: small, fast and the same on every platform, so that a seed names a
/// synthetic input (the benchmark's history, a test's random history or value).
package struct SplitMix64: RandomNumberGenerator {
  /// The generator's state; the next value is derived from it.
  package var state: UInt64

  /// A generator whose sequence the seed names.
  package init(seed: UInt64) {
    state = seed
  }

  /// The next value of the sequence.
  package mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A value in `0..<bound` (bound > 0).
  package mutating func below(_ bound: Int) -> Int {
    Int(next() % UInt64(bound))
  }

  /// Whether an event of probability `percent` happens.
  package mutating func chance(_ percent: Int) -> Bool {
    below(100) < percent
  }

  /// One of `items` (not empty).
  package mutating func pick<T>(_ items: [T]) -> T {
    items[below(items.count)]
  }
}
