import EventLog
import Foundation
import PartnerSyncDomain

/// Where a delivery stands: the cursor of the last notification delivered, kept in a file of its
/// own that is replaced atomically (written beside it, synced, renamed over it), so that a
/// delivery killed at any point finds either the cursor before or the one after.
public struct DeliveryCheckpoint: Sendable, Hashable {
  /// The file.
  public let path: String

  /// The checkpoint kept at `path`.
  public init(path: String) {
    self.path = path
  }

  /// The cursor stored, or ``OutboxCursor/start`` when there is no file yet.
  /// - Throws: ``PartnerSyncError`` with code `unusableLog` when the file holds something else
  ///   than a cursor, `storage` when it cannot be read.
  public func load() throws(PartnerSyncError) -> OutboxCursor {
    guard FileManager.default.fileExists(atPath: path) else { return .start }
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw PartnerSyncError(.storage, "the delivery checkpoint \(path) cannot be read: \(error.localizedDescription)")
    }
    guard let cursor = OutboxCursor(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
      throw PartnerSyncError(
        .unusableLog,
        "the delivery checkpoint \(path) does not hold a cursor such as 12-0; remove it to deliver from the start")
    }
    return cursor
  }

  /// Stores `cursor`: the file is replaced whole, and synced, before this returns.
  /// - Throws: ``PartnerSyncError`` with code `storage` when it cannot be written.
  public func save(_ cursor: OutboxCursor) throws(PartnerSyncError) {
    let temporary = path + ".partial"
    let bytes = Array((cursor.description + "\n").utf8)
    let folder = (path as NSString).deletingLastPathComponent
    let failed = { (what: String) in
      PartnerSyncError(
        .storage, "the delivery checkpoint \(path) could not be \(what) (\(String(cString: strerror(errno))))")
    }
    let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard file >= 0 else { throw failed("written") }
    let written = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(file) == 0 else {
      close(file)
      throw failed("written")
    }
    close(file)
    guard rename(temporary, path) == 0 else { throw failed("replaced") }
    let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directory >= 0 {
      defer { close(directory) }
      guard fsync(directory) == 0 else { throw failed("synced") }
    }
  }
}

extension PartnerSyncLog {
  /// Delivers the stored outbox after `checkpoint` (every partner's, or only `partner`'s) to
  /// `send`, one notification at a time in cursor order, advancing the checkpoint after each one
  /// `send` returns from: at-least-once delivery.
  ///
  /// Killed at any point, a delivery started again from the same checkpoint loses nothing; it
  /// sends again at most the one notification that was in flight, with the same
  /// ``OutboxNotification/id``, by which a receiver drops repeats. It returns how many
  /// notifications it delivered once the outbox has none left after the checkpoint.
  ///
  /// ```swift
  /// let checkpoint = DeliveryCheckpoint(path: "bolt.checkpoint")
  /// try log.deliver(checkpoint: checkpoint, as: "bolt") { notification in
  ///   try psa.post(id: notification.id, text: notification.notification.text)
  /// }
  /// ```
  /// - Parameters:
  ///   - checkpoint: Where the cursor of the last notification delivered is kept.
  ///   - partner: The partner whose notifications are delivered; nil for every partner's.
  ///   - pageSize: How many notifications are read from the outbox at a time (1 at least).
  ///   - send: Delivers one notification; returning is its acknowledgement.
  /// - Throws: ``PartnerSyncError`` with code `deliveryFailed` when `send` throws (the
  ///   checkpoint stays before that notification), or an error reading the log or the checkpoint.
  @discardableResult
  public func deliver(
    checkpoint: DeliveryCheckpoint, as partner: String? = nil, pageSize: Int = 100,
    _ send: (OutboxNotification) throws -> Void
  ) throws(PartnerSyncError) -> Int {
    var cursor = try checkpoint.load()
    var delivered = 0
    let pageSize = max(1, pageSize)
    while true {
      let page = try outbox(after: cursor, limit: pageSize, as: partner)
      for notification in page {
        do {
          try send(notification)
        } catch {
          throw PartnerSyncError(
            .deliveryFailed,
            "notification \(notification.id) was not delivered (\(error)); the checkpoint stays at \(cursor), "
              + "so it is sent again next time")
        }
        try checkpoint.save(notification.cursor)
        cursor = notification.cursor
        delivered += 1
      }
      if page.count < pageSize { return delivered }
    }
  }
}

extension OutboxNotification {
  /// The notification as JSON for a receiver: its `id` (the cursor, to drop repeats by), then
  /// the members of ``PartnerNotification/json``.
  public var json: JSONValue {
    guard case .object(let members) = notification.json else { return notification.json }
    return .object([("id", .string(id))] + members)
  }

  /// ``json`` as one line.
  public var deliveryLine: String { json.jsonText }
}
