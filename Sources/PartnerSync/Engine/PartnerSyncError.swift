import EventLog
import PartnerSyncDomain

/// The one error type of the PartnerSync library: a code that can be matched, and one sentence
/// for people that says what is wrong and what to do.
public struct PartnerSyncError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What kind of failure this is.
  public enum Code: String, Sendable, Hashable {
    /// An event is malformed or refused by the rules; nothing was appended.
    case invalidEvent = "invalid-event"
    /// Another writer changed a ticket after this batch was validated; nothing was appended.
    case versionConflict = "version-conflict"
    /// The log stayed locked by another writer past the wait; nothing was appended.
    case busy
    /// The log's database server cannot be reached, or the connection to it was lost; nothing
    /// was appended, and retrying later may succeed.
    case unavailable
    /// The log file does not exist.
    case logNotFound = "log-not-found"
    /// The file is not a PartnerSync log, or was written by a newer version.
    case unusableLog = "unusable-log"
    /// The log is read-only (opened so, or on a standby server).
    case readOnly = "read-only"
    /// The log did not hold the position a read waits for (a replica had not replayed it yet)
    /// within the wait; retrying later, or reading from the primary, may succeed.
    case positionNotReached = "position-not-reached"
    /// The ticket is not in the log (at that point).
    case unknownTicket = "unknown-ticket"
    /// The partner has no engagement on the ticket (at that point), or no such engagement exists.
    case unknownPartner = "unknown-partner"
    /// The ticket never had an entry of that id (at that point).
    case unknownEntry = "unknown-entry"
    /// A position or time lies outside the log.
    case outOfRange = "out-of-range"
    /// The log contradicts itself (a stored event cannot be read or replayed).
    case corruptLog = "corrupt-log"
    /// A failure of the storage layer.
    case storage
    /// A receiver did not take a notification; the delivery's checkpoint stays before it.
    case deliveryFailed = "delivery-failed"
  }

  /// What kind of failure this is.
  public var code: Code
  /// One sentence: what is wrong and what to do.
  public var message: String
  /// For an invalid event in a file or batch: the 1-based line (or index) it came from.
  public var line: Int?

  /// Creates an error.
  public init(_ code: Code, _ message: String, line: Int? = nil) {
    self.code = code
    self.message = message
    self.line = line
  }

  /// The message, prefixed with the line when there is one.
  public var description: String { line.map { "line \($0): \(message)" } ?? message }

  /// Translates an error of the event log.
  init(_ error: EventLogError) {
    switch error {
    case .versionConflict: self.init(.versionConflict, error.description)
    case .busy: self.init(.busy, error.description)
    case .fileNotFound: self.init(.logNotFound, error.description)
    case .notAnEventLog, .newerSchema: self.init(.unusableLog, error.description)
    case .readOnly, .standby: self.init(.readOnly, error.description)
    case .unavailable: self.init(.unavailable, error.description)
    case .sqlite, .server: self.init(.storage, error.description)
    }
  }

  /// The error of a ticket that is not in the log, also the answer of a scoped read for a ticket
  /// the partner may not know (which tells nothing of the ticket's history).
  package static func notInLog(_ ticket: String) -> PartnerSyncError {
    PartnerSyncError(.unknownTicket, "ticket \(ticket) is not in the log")
  }

  /// Runs `body`, translating any error into a `PartnerSyncError` (one that is neither this type
  /// nor the event log's is a storage failure).
  package static func wrap<T>(_ body: () throws -> T) throws(PartnerSyncError) -> T {
    do {
      return try body()
    } catch let error as PartnerSyncError {
      throw error
    } catch let error as EventLogError {
      throw PartnerSyncError(error)
    } catch {
      throw PartnerSyncError(.storage, "\(error)")
    }
  }
}
