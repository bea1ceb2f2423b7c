-- Where a vendor's agents are not seen, its interval report can say how much time they spent on queue (its own
-- WFM's staffed time): staffing comes from it. NULL on rows from events (the agents' own states give staffing
-- there, in adherence_interval) and on reports that do not carry it.
alter table quality_interval add column if not exists staffed_ms Nullable(UInt64) after csat_count;
-- The seats (agents on queue) a vendor contracts to staff in each interval it is open; NULL where the contract
-- names none.
alter table source_terms add column if not exists contracted_seats Nullable(UInt32) after contracted_share;
-- How far over the forecast the calls sent may go before an interval's breach is put down to the volume (a
-- contract term: vendors commonly agree to staff for the forecast within a band such as 10 %).
alter table source_terms add column if not exists forecast_tolerance Float64 default 0.1 after contracted_seats;
