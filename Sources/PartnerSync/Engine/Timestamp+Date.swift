import Foundation
import PartnerSyncDomain

extension Timestamp {
  /// The current time, to the microsecond. The only clock of the library: used by the engine
  /// for events recorded without a time, never by the projections.
  public static func now() -> Timestamp {
    Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
  }

  /// Microseconds from 1970 to 2001, the reference date from which a `Date` counts.
  static let referenceDateMicroseconds: Int64 = 978_307_200_000_000

  /// The instant of `date`, to the nearest microsecond (a date beyond what a timestamp holds,
  /// some 292,000 years from 1970, is clamped to the nearest one it holds).
  ///
  /// ```swift
  /// let at = Timestamp(Date())   // as Timestamp.now()
  /// ```
  public init(_ date: Date) {
    // A date counts seconds from 2001 in a Double: converted from there, without a detour
    // through 1970 that would round once more.
    let sinceReference = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
    let limit = 0x1p62
    if sinceReference >= limit || sinceReference.isNaN {
      self.init(microseconds: sinceReference.isNaN ? 0 : .max)
    } else if sinceReference <= -limit {
      self.init(microseconds: .min)
    } else {
      let (microseconds, overflow) = Int64(sinceReference).addingReportingOverflow(Self.referenceDateMicroseconds)
      self.init(microseconds: overflow ? .max : microseconds)
    }
  }

  /// The instant as a `Date`; `Timestamp(timestamp.date)` gives the timestamp back for instants
  /// of the years 1866 to 2136 (further from 2001, a `Date` is coarser than a microsecond).
  public var date: Date {
    let (sinceReference, overflow) = microseconds.subtractingReportingOverflow(Self.referenceDateMicroseconds)
    return Date(
      timeIntervalSinceReferenceDate: overflow ? -Double.greatestFiniteMagnitude : Double(sinceReference) / 1_000_000)
  }
}
