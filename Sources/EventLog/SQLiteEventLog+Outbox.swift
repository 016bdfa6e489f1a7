extension SQLiteEventLog {
  /// Streams the outbox's messages after `cursor` in cursor order (only `recipient`'s when
  /// given), through the primary key or the `outbox_by_recipient` index: a page costs what it
  /// holds.
  public func forEachOutboxMessage(
    after cursor: OutboxCursor, recipient: String?, _ body: (OutboxMessage) throws -> Bool
  ) throws {
    let sql =
      "SELECT position, seq, recipient, data FROM outbox WHERE "
      + (recipient == nil ? "" : "recipient = ?3 AND ")
      + "(position, seq) > (?1, ?2) ORDER BY position, seq"
    try read { connection in
      guard connection.schemaVersion >= SQLiteSchema.outboxVersion else { return }
      try connection.withStatement(sql, purpose: "read the outbox") { statement in
        try statement.bind(cursor.position, at: 1)
        try statement.bind(Int64(cursor.index), at: 2)
        if let recipient { try statement.bind(recipient, at: 3) }
        while try statement.step() {
          let message = OutboxMessage(
            cursor: OutboxCursor(position: statement.int64(at: 0), index: Int(statement.int64(at: 1))),
            recipient: statement.text(at: 2), data: statement.text(at: 3))
          guard try body(message) else { return }
        }
      }
    }
  }

  /// Whether no fill or rebuild of the outbox is pending.
  public func outboxIsFilled() throws -> Bool {
    try query { connection in
      guard connection.schemaVersion >= SQLiteSchema.outboxVersion else { return false }
      return try connection.integer("SELECT count(*) FROM outbox_filling", purpose: "read the outbox's state") == 0
    }
  }

  /// Writes the outbox of the events up to the last one again, in several transactions: one that
  /// empties it and marks it as being filled, one per batch of messages, one that ends the mark.
  /// A rebuild that another one overlaps writes the same rows, so each replaces the other's. The
  /// mark is this rebuild's own (its row id, at random): a rebuild that another process began
  /// meanwhile replaced it with its own, and the outbox stays marked until that one ends.
  public func rebuildOutbox(_ produce: (_ through: Int64, _ sink: OutboxRebuild) throws -> Void) throws {
    let mark = Int64.random(in: 1...Int64.max)
    let through = try write { connection in
      let last = try connection.integer("SELECT max(position) FROM events", purpose: "read the last position")
      try connection.execute(
        "DELETE FROM outbox WHERE position <= \(last); DELETE FROM outbox_filling; "
          + "INSERT INTO outbox_filling (rowid, through) VALUES (\(mark), \(last))",
        purpose: "empty the outbox and mark it as being filled")
      return last
    }
    let sink = OutboxRebuild { messages in
      try self.write { connection in
        try connection.withStatement(
          "INSERT OR REPLACE INTO outbox (position, seq, recipient, data) VALUES (?1, ?2, ?3, ?4)",
          purpose: "fill the outbox"
        ) { insert in
          for message in messages {
            try insert.bind(message.cursor.position, at: 1)
            try insert.bind(Int64(message.cursor.index), at: 2)
            try insert.bind(message.recipient, at: 3)
            try insert.bind(message.data, at: 4)
            _ = try insert.step()
            insert.rewind()
          }
        }
      }
    }
    try produce(through, sink)
    try sink.flush()
    try write { connection in
      try connection.execute("DELETE FROM outbox_filling WHERE rowid = \(mark)", purpose: "mark the outbox as filled")
    }
  }
}
