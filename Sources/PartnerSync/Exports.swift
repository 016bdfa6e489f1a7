@_exported import PartnerSyncDomain

// The outbox cursor is the log's, and part of this library's API.
@_exported import struct EventLog.OutboxCursor
