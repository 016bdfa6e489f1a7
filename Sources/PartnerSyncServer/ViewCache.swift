import Hummingbird
import NIOCore
import Synchronization

/// The answers of recent view requests, by ticket, partner, engagement and the position the view
/// stands at: the log only grows, so a view of the same ticket for the same partner at the same
/// position is the same document, and a partner polling a ticket that did not change is answered
/// without folding, scoping and writing the view again. Any append moves the position of a view
/// of the latest state, so such a view is never answered from before it.
///
/// It holds at most `capacity` answers of at most `capacityBytes` bytes in all, and is emptied
/// when full (a view costs little to make again: this only spares the repeats).
final class ViewCache: Sendable {
  struct Key: Hashable, Sendable {
    let ticket: String
    let partner: String
    let engagement: Int?
    let position: Int64
  }

  private let capacity: Int
  private let capacityBytes: Int
  private let answers = Mutex(Answers())

  /// The answers kept, and their bytes in all.
  private struct Answers {
    var byKey: [Key: ByteBuffer] = [:]
    var bytes = 0
  }

  init(capacity: Int = 4096, capacityBytes: Int = 16 << 20) {
    self.capacity = capacity
    self.capacityBytes = capacityBytes
  }

  /// The answer made for `key`, if any.
  func answer(_ key: Key) -> ByteBuffer? {
    answers.withLock { $0.byKey[key] }
  }

  /// Keeps `answer` for `key` (not when it alone is larger than the cache).
  func keep(_ answer: ByteBuffer, for key: Key) {
    guard answer.readableBytes <= capacityBytes else { return }
    answers.withLock { answers in
      if answers.byKey.count >= capacity || answers.bytes + answer.readableBytes > capacityBytes {
        answers = Answers()
      }
      if let replaced = answers.byKey.updateValue(answer, forKey: key) { answers.bytes -= replaced.readableBytes }
      answers.bytes += answer.readableBytes
    }
  }
}
