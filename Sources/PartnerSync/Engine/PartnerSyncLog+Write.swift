import EventLog
import Foundation
import Logging
import PartnerSyncDomain

/// An event on its way into the log, with its line (or 1-based index) in the input.
typealias PendingEvent = (event: TicketEvent, line: Int)

extension PartnerSyncLog {
  /// Validates the events of `document` and appends them in one transaction: the one write
  /// path, of an import and of a record alike.
  ///
  /// A version conflict (another writer changed a ticket meanwhile) validates the events again
  /// against the tickets folded afresh, up to ``conflictRetries`` times in all. When the log
  /// fails, a line that is not an event is still reported first, as the one thing to fix in the
  /// input; and when the log only refused to be written (busy, read-only), also an event that the
  /// rules refuse, found by folding the events without writing them.
  func write(
    _ document: DocumentLines, now: Timestamp, progress: ProgressHandler?, keeping: Bool
  ) throws(PartnerSyncError) -> RecordResult {
    var attempt = 0
    var guessing = true
    while true {
      attempt += 1
      do {
        if let written = try writeOnce(document, now: now, progress: progress, keeping: keeping, guessing: guessing) {
          return written
        }
        // The log guessed its last position and another writer had appended: nothing was
        // written; validate again, without a guess.
        guessing = false
        attempt -= 1
      } catch  where error.code == .versionConflict && attempt < Self.conflictRetries {
        projectionCache.remove(document.tickets)
        Self.logger.debug(
          "another writer changed a ticket of this batch; validating again",
          metadata: ["attempt": "\(attempt)", "reason": "\(error.message)"])
      } catch  where error.code == .readOnly || error.code == .busy {
        var dryRun = try ImportFold(document, log: self, empty: try lastPosition() == 0, keeping: false)
        if case .failure(let refused as PartnerSyncError) = Result(catching: {
          try dryRun.run(from: 1, now: now, progress: nil) { _ in }
        }) {
          throw refused
        }
        throw error
      } catch  where error.code != .invalidEvent {
        try document.firstInvalidLine(in: document.lines[...])
        throw error
      }
    }
  }

  /// Parses, validates and appends the document in one transaction, the two overlapping: this
  /// thread parses each line and folds it into its ticket's projection, and the log hashes and
  /// writes the records on a thread of its own. `guessing`, the log may guess its last position;
  /// nil when the guess failed (nothing was written).
  private func writeOnce(
    _ document: DocumentLines, now: Timestamp, progress: ProgressHandler?, keeping: Bool, guessing: Bool
  ) throws(PartnerSyncError) -> RecordResult? {
    // Into an empty log, every ticket is new: no need to ask the log about each (nor, for a
    // single event, to ask whether the log is empty).
    let empty = document.lines.count > 1 ? try lastPosition() == 0 : false
    var fold = try ImportFold(document, log: self, empty: empty, keeping: keeping)
    var foldedFrom: Int64?
    func produce(_ appender: EventAppender) throws {
      foldedFrom = appender.firstPosition
      try fold.run(from: appender.firstPosition, now: now, progress: progress) { event in
        try appender.append(event)
      }
      progress?(ProgressReport(phase: .writing, done: 0, total: Int64(document.lines.count)))
    }
    let expected = fold.expected
    guard
      let appended = try PartnerSyncError.wrap({
        guessing
          ? try store.appendGuessingPosition(expectedVersions: expected, produce)
          : try store.append(expectedVersions: expected, produce)
      })
    else { return nil }
    let first = appended.firstPosition
    let last = appended.lastPosition
    var decisions = fold.decisionLists
    var notifications = fold.notificationLists
    if first == foldedFrom {
      projectionCache.store(fold.latestFinished)
    } else if keeping {
      // The log placed the document elsewhere than it announced (a log without its own streaming
      // append, shared with another writer): the decisions are taken from the tickets folded
      // from the log.
      decisions = []
      notifications = []
      for ticket in document.tickets {
        guard let projection = try projection(ticket: ticket, through: last) else { continue }
        decisions.append(Self.items(projection.decisions, from: first, through: last, position: \.position))
        notifications.append(Self.items(projection.notifications, from: first, through: last, position: \.position))
      }
    }
    let count = Int(last - first + 1)
    Self.logger.debug("appended events", metadata: ["count": "\(count)", "first": "\(first)", "last": "\(last)"])
    return RecordResult(
      firstPosition: first, lastPosition: last,
      decisions: DeferredList(count: fold.decisionCount) { [decisions] in
        Self.merge(decisions, first: first, count: count, position: \.position)
      },
      notifications: DeferredList(count: fold.notificationCount) { [notifications] in
        Self.merge(notifications, first: first, count: count, position: \.position)
      })
  }

  /// The elements of `items` (ordered by position) from position `first` through `last`.
  static func items<Item>(
    _ items: [Item], from first: Int64, through last: Int64, position: (Item) -> Int64
  ) -> ArraySlice<Item> {
    items[startOfSuffix(items, from: first, position: position)...].prefix { position($0) <= last }
  }

  /// The items of several tickets, each list in its ticket's order, merged by position: all the
  /// items at one position come from one event, so a stable counting sort keeps each ticket's
  /// order without comparing anything.
  static func merge<Item>(
    _ lists: [ArraySlice<Item>], first: Int64, count: Int, position: (Item) -> Int64
  ) -> [Item] {
    let total = lists.reduce(0) { $0 + $1.count }
    guard total > 0 else { return [] }
    if lists.count(where: { !$0.isEmpty }) == 1 { return Array(lists.first { !$0.isEmpty }!) }
    var starts = [Int](repeating: 0, count: count + 1)
    for list in lists {
      for item in list { starts[Int(position(item) - first) + 1] += 1 }
    }
    for index in 1..<starts.count { starts[index] += starts[index - 1] }
    return [Item](unsafeUninitializedCapacity: total) { buffer, initialized in
      for list in lists {
        for item in list {
          let offset = Int(position(item) - first)
          (buffer.baseAddress! + starts[offset]).initialize(to: item)
          starts[offset] += 1
        }
      }
      initialized = total
    }
  }
}

extension TicketEvent {
  /// Lends the event as the log stores it (without a time, at `now`), with the messages it leaves
  /// in the `outbox`, to `body`, as bytes valid only during `body`: its data is encoded on the
  /// stack and no string is made.
  func withRecordBytes<Result>(
    now: Timestamp, outbox: borrowing OutboxFrames, _ body: (EventRecordBytes) throws -> Result
  ) rethrows -> Result {
    let time = (at ?? now).microseconds
    return try EventCodec.withData(of: payload) { data in
      try ticket.withUTF8Bytes { stream in
        try type.rawValue.withUTF8Bytes { type in
          try by.withUTF8Bytes { actor in
            try outbox.bytes.withUnsafeBufferPointer { outbox in
              try body(
                EventRecordBytes(stream: stream, type: type, actor: actor, time: time, data: data, outbox: outbox))
            }
          }
        }
      }
    }
  }
}
