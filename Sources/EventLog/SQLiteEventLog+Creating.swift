import Foundation

extension SQLiteEventLog {
  /// Creates the log at `path` with what `fill` appends to it, or leaves nothing when `fill`
  /// fails: nobody ever sees the new log half made.
  ///
  /// The new log is built under a private name beside `path` (``stagingPath(for:)``) and linked
  /// into place only once `fill` has returned and the log is closed. Removing a half-made log at
  /// `path` instead would be unsafe: another process may have opened it meanwhile and appended
  /// to it. `fill` must not keep the log it is given: it is closed when `fill` returns.
  ///
  /// - Returns: What `fill` returned; or `nil`, with nothing created, when another process
  ///   created a log at `path` first (or the file system cannot link files): the caller then
  ///   appends to that log like any other.
  /// - Throws: What opening the new log or `fill` throws; errors of the log name its private
  ///   path. Nothing is left at either path then.
  public static func create<Result>(
    path: String, options: Options = .init(), _ fill: (SQLiteEventLog) throws -> Result
  ) throws -> Result? {
    let staging = stagingPath(for: path)
    defer { removeFiles(of: staging) }
    var options = options
    options.create = true
    let result = try fill(try SQLiteEventLog(path: staging, options: options))
    // The log was closed (and its WAL checkpointed) when `fill` let it go. Were a WAL left,
    // linking only the main file would lose it.
    guard !FileManager.default.fileExists(atPath: staging + "-wal"), link(staging, path) == 0 else { return nil }
    return result
  }

  /// The private name beside `path` under which this process builds a new log
  /// (``create(path:options:_:)``).
  public static func stagingPath(for path: String) -> String {
    path + ".new-\(getpid())"
  }

  /// Removes a log file and its companions.
  static func removeFiles(of path: String) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
      try? FileManager.default.removeItem(atPath: path + suffix)
    }
  }
}
