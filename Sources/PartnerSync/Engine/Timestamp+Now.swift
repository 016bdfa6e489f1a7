import Foundation
import PartnerSyncDomain

extension Timestamp {
  /// The current time, to the microsecond. The only clock of the library: used by the engine
  /// for events recorded without a time, never by the projections.
  public static func now() -> Timestamp {
    Timestamp(microseconds: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
  }
}
