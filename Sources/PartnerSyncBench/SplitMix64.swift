/// The SplitMix64 generator: small, fast and the same on every platform, so the seed names the
/// synthetic history.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A value in `0..<bound` (bound > 0).
  mutating func below(_ bound: Int) -> Int {
    Int(next() % UInt64(bound))
  }

  /// Whether an event of probability `percent` happens.
  mutating func chance(_ percent: Int) -> Bool {
    below(100) < percent
  }

  /// One of `items` (not empty).
  mutating func pick<T>(_ items: [T]) -> T {
    items[below(items.count)]
  }
}
