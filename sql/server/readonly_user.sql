-- A production ClickHouse server managed with SQL (ClickHouse Cloud, say), not applied to the local chDB
-- endpoint: the same read-only `dashboards` user as infra/clickhouse/users.d/dashboards.xml gives the
-- docker-compose server, able to read acdscope's tables and nothing else. readonly = 1 lets no setting change,
-- so join_use_nulls = 1 (which the dashboards ask for) is the user's own, and Grafana may set max_execution_time.
-- Apply once as an administrator, with a real password: clickhouse-client --multiquery < sql/server/readonly_user.sql
create role if not exists acdscope_reader;
grant select on acdscope.* to acdscope_reader;
create user if not exists dashboards identified with sha256_password by 'change-me'
    settings readonly = 1, join_use_nulls = 1, max_execution_time changeable_in_readonly;
grant acdscope_reader to dashboards;
set default role acdscope_reader to dashboards;
