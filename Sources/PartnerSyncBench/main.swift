// The benchmark of Scripts/bench; see Docs/performance.md.
print("PartnerSyncBench: not yet measuring anything")
