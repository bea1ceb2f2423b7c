-- Production ClickHouse server only (not applied to the local chDB endpoint, which has no access control):
-- the dashboards and Grafana read through a user that can read acdscope's tables and nothing else.
-- Apply once as an administrator: clickhouse-client --multiquery < sql/server/readonly_user.sql
create role if not exists acdscope_reader;
grant select on acdscope.* to acdscope_reader;
create user if not exists acdscope_dashboards identified with sha256_password by 'change-me'
    settings readonly = 1;
grant acdscope_reader to acdscope_dashboards;
set default role acdscope_reader to acdscope_dashboards;
