-- A leg an internal transfer put in a queue is the same customer call again: it was counted as a new offered
-- call (3,517 in-house "offered" for 3,420 arrivals in the demo) and, unable to abandon, it raised service level.
-- The engine now counts it here, and no longer in offered, answered, abandoned or their waits; its handle time,
-- transfers and scores count like any handled leg's. NULL where the setup shows no such legs (a vendor report
-- without them).
alter table quality_interval add column if not exists transferred_in Nullable(UInt64) after transferred;
