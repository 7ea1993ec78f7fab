-- enshin_app's grants, stated in full. Run as the superuser after every `enshin migrate`
-- (idempotent); roles.sql's default privileges already cover new tables, this also takes back
-- what the service must not have.
\set ON_ERROR_STOP on
\connect enshin
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO enshin_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO enshin_app;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA audit FROM enshin_app;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA audit TO enshin_app;
-- The service reads which migrations ran (to refuse a schema it does not know) and writes none.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public._sqlx_migrations, audit._sqlx_migrations FROM enshin_app;
