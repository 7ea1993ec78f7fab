-- enshin's roles, database and grants. Run once on the primary as the superuser:
--   psql -v owner_password=… -v app_password=… -v replicator_password=… -f roles.sql
-- then `enshin migrate` with enshin_owner's URL, then grants.sql.
\set ON_ERROR_STOP on

-- enshin_owner owns the schemas and runs the migrations; its password stays with the operators
-- who upgrade, never on a serve host. enshin_app is what `enshin serve` logs in as.
CREATE ROLE enshin_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE enshin_app LOGIN PASSWORD :'app_password' CONNECTION LIMIT 100;
-- Streaming replication, and pg_rewind's reads when a failed primary rejoins.
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'replicator_password';

CREATE DATABASE enshin OWNER enshin_owner ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0;
REVOKE ALL ON DATABASE enshin FROM PUBLIC;
GRANT CONNECT ON DATABASE enshin TO enshin_owner, enshin_app;

\connect enshin
ALTER SCHEMA public OWNER TO enshin_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA audit AUTHORIZATION enshin_owner;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA public, audit TO enshin_app;

-- Tables the owner creates later (every migration) get these grants by themselves.
ALTER DEFAULT PRIVILEGES FOR ROLE enshin_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO enshin_app;
ALTER DEFAULT PRIVILEGES FOR ROLE enshin_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO enshin_app;
-- The access log: append and read, nothing else (LOG-2). The triggers refuse UPDATE, DELETE and
-- TRUNCATE even to the owner; the service role cannot even ask.
ALTER DEFAULT PRIVILEGES FOR ROLE enshin_owner IN SCHEMA audit
    GRANT SELECT, INSERT ON TABLES TO enshin_app;
