import Foundation

/// Measures elapsed wall-clock time.
struct Stopwatch {
  private let start = ContinuousClock.now

  /// Seconds since the stopwatch was created.
  var seconds: Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  }
}

/// The CPU time the calling thread has used so far, in seconds: in user space and in the kernel.
func threadCPUSeconds() -> (user: Double, system: Double) {
  var usage = rusage()
  getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD, which Glibc does not export to Swift
  func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
  return (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

/// The `p`-th percentile (0…100) of `values` by the nearest-rank method.
func percentile(_ values: [Double], _ p: Double) -> Double {
  guard !values.isEmpty else { return 0 }
  let sorted = values.sorted()
  let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
  return sorted[min(max(rank, 1), sorted.count) - 1]
}

/// A field of `/proc/self/status` in KiB, such as `VmHWM` (the peak resident set) or `VmRSS`.
func procStatusKiB(_ field: String) -> Int? {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
  for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
    return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
  }
  return nil
}

/// Writes a line to standard error (progress, never part of the figures).
func note(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Paired measurements of PartnerSync and its raw SQLite reference, one pair per round.
struct Samples {
  private var rates: [Double] = []
  private var rawRates: [Double] = []

  /// Adds one round: PartnerSync's rate and the raw rate measured right beside it.
  mutating func add(_ rate: Double, _ rawRate: Double) {
    rates.append(rate)
    rawRates.append(rawRate)
  }

  /// The median rate, the median raw rate, and the median of the rounds' ratios (each round's
  /// two figures met the machine in the same state, so their ratio varies less than either).
  var medians: (rate: Double, rawRate: Double, ratio: Double) {
    (median(rates), median(rawRates), median(zip(rates, rawRates).map { $0 / $1 }))
  }

  private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
  }
}
