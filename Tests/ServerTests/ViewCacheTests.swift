import NIOCore
import Testing

@testable import PartnerSyncServer

@Suite("The server's kept view answers")
struct ViewCacheTests {
  private func key(_ ticket: String, at position: Int64 = 1) -> ViewCache.Key {
    ViewCache.Key(ticket: ticket, partner: "bolt", engagement: nil, position: position)
  }

  @Test func anAnswerIsKeptByTicketPartnerEngagementAndPosition() {
    let cache = ViewCache()
    cache.keep(ByteBuffer(string: "one"), for: key("T-1"))
    #expect(cache.answer(key("T-1")) == ByteBuffer(string: "one"))
    #expect(cache.answer(key("T-1", at: 2)) == nil)
    #expect(cache.answer(ViewCache.Key(ticket: "T-1", partner: "acme", engagement: nil, position: 1)) == nil)
    #expect(cache.answer(ViewCache.Key(ticket: "T-1", partner: "bolt", engagement: 1, position: 1)) == nil)
  }

  @Test func theCacheIsEmptiedWhenItHoldsAsManyAnswersOrBytesAsItMay() {
    let counted = ViewCache(capacity: 2, capacityBytes: 1_000)
    counted.keep(ByteBuffer(string: "a"), for: key("T-1"))
    counted.keep(ByteBuffer(string: "b"), for: key("T-2"))
    counted.keep(ByteBuffer(string: "c"), for: key("T-3"))
    #expect(counted.answer(key("T-1")) == nil && counted.answer(key("T-2")) == nil)
    #expect(counted.answer(key("T-3")) == ByteBuffer(string: "c"))

    let sized = ViewCache(capacity: 100, capacityBytes: 10)
    sized.keep(ByteBuffer(string: "123456"), for: key("T-1"))
    sized.keep(ByteBuffer(string: "1234"), for: key("T-2"))
    #expect(sized.answer(key("T-1")) != nil && sized.answer(key("T-2")) != nil)
    sized.keep(ByteBuffer(string: "1"), for: key("T-3"))
    #expect(sized.answer(key("T-1")) == nil && sized.answer(key("T-3")) != nil)
    // An answer replaced counts once; one larger than the whole cache is not kept.
    sized.keep(ByteBuffer(string: "12345"), for: key("T-3"))
    sized.keep(ByteBuffer(string: "12345"), for: key("T-4"))
    #expect(sized.answer(key("T-3")) != nil && sized.answer(key("T-4")) != nil)
    sized.keep(ByteBuffer(string: "12345678901"), for: key("T-5"))
    #expect(sized.answer(key("T-5")) == nil && sized.answer(key("T-4")) != nil)
  }
}
