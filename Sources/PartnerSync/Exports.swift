@_exported import PartnerSyncDomain
