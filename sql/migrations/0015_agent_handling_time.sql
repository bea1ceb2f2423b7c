-- Occupancy needs the time agents spent on contacts and in wrap-up, in the interval it happened (handle time
-- in quality_interval is dated by the call's queue entry instead). NULL on rows written before it was counted.
alter table adherence_interval add column if not exists handling_ms Nullable(UInt64) after worked_on_queue_ms;
